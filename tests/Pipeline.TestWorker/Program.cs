// A worker service as a user would write one, for the exit-code tests: `fault` makes a stage throw with OnError Stop,
// `clean` runs to the end. Either way it ends with `await host.RunAsync()` and lets the engine set the exit code.
// `file` runs the crash tests' file pipeline (see FileCrashWorker).
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline;
using Pipeline.TestWorker;

if (args.Length > 0 && args[0] == "file")
{
    await FileCrashWorker.RunAsync(args[1..]);
    return;
}

var fault = args.Length > 0 && args[0] == "fault";
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Services.AddPipeline("worker", p => p
    .From("read", Enumerable.Range(0, 1000))
    .Then("parse", x => fault && x == 42 ? throw new InvalidOperationException("bad record 42") : x)
    .To("store", _ => { }));
using var host = builder.Build();

// A finite job: once the pipeline has ended, the application stops (a faulted pipeline stops it by itself).
var service = host.Services.GetServices<IHostedService>().OfType<PipelineHostedService>().Single();
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
_ = service.Completion.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
await host.RunAsync();
