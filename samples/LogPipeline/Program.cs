using LogPipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// Reads access.log line by line, parses each line (two workers, order kept, malformed lines dead-lettered), batches the entries,
// and aggregates them into a traffic report printed when the file has been processed. Tune it in appsettings.json.
// The content root is the application's folder, so appsettings.json loads whatever the working directory is.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddPipeline("access-logs", pipeline => pipeline
    .From<LogFileSource, string>("read")
    .Then("parse", AccessLogEntry.Parse)
    .Batch("batch", size: 100, maxDelay: TimeSpan.FromSeconds(1))
    .To<TrafficReport>("report"));

// A bad setting: every problem named (key, value, allowed values) and exit code 2, checked before the host starts (which would
// log it with a stack trace and crash). Otherwise the exit code is the pipeline's: 1 faulted, 3 aborted at the shutdown deadline.
using var host = builder.Build();
try
{
    host.Services.GetService<IStartupValidator>()?.Validate();
}
catch (OptionsValidationException exception)
{
    Console.Error.WriteLine(string.Join(Environment.NewLine, exception.Failures));
    return 2;
}

await host.RunAsync();
return Environment.ExitCode;
