// A worker service as a user would write one, for the exit-code tests: `fault` makes a stage throw with OnError Stop,
// `clean` runs to the end, `stuck` is stopped while a stage call never returns (aborted at the 2 s shutdown deadline). Either way it ends with `await host.RunAsync()` and lets the engine set the exit code.
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
var stuck = args.Length > 0 && args[0] == "stuck";
var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

// Never set: the stuck calls block on it, as a call to a service that never answers would.
using var never = new ManualResetEventSlim();
if (stuck && !(ThreadPool.SetMinThreads(5, 5) && ThreadPool.SetMaxThreads(5, 5)))
{
    throw new InvalidOperationException("could not limit the thread pool to 5 threads");
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(2));
builder.Services.AddPipeline("worker", p => p
    .From("read", Enumerable.Range(0, 1000))
    .Then("parse", x =>
    {
        if (fault && x == 42)
        {
            throw new InvalidOperationException("bad record 42");
        }

        if (stuck && x is >= 100 and < 104)
        {
            // Calls that never return and ignore their token, on every worker of the stage: the run can only be aborted at the
            // shutdown deadline, and they hold four of the pool's five threads, so continuations run one at a time.
            if (x == 103)
            {
                entered.TrySetResult();
            }

            never.Wait();
        }

        return x;
    }, o => o.Parallelism = stuck ? 4 : 1)
    .To("store", _ => { }));
using var host = builder.Build();

// A finite job: once the pipeline has ended, the application stops (a faulted pipeline stops it by itself). `stuck` is stopped
// as SIGTERM would stop it, once its stage is stuck.
var service = host.Services.GetServices<IHostedService>().OfType<PipelineHostedService>().Single();
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
_ = service.Completion.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
_ = entered.Task.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
await host.RunAsync();
