using LogPipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Reads access.log line by line, parses each line (two workers, order kept, malformed lines dead-lettered), batches the entries,
// and aggregates them into a traffic report printed when the file has been processed. Tune it in appsettings.json.
// The content root is the application's folder, so appsettings.json loads whatever the working directory is.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddPipeline("access-logs", pipeline => pipeline
    .From<LogFileSource, string>("read")
    .Then("parse", AccessLogEntry.Parse)
    .Batch("batch", size: 100, maxDelay: TimeSpan.FromSeconds(1))
    .To<TrafficReport>("report"));

await builder.Build().RunAsync();
