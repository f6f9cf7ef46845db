using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Hosting;

/// <summary>Configuration reloaded while a hosted pipeline runs: what can change in place does, the rest waits for a restart.</summary>
public sealed class SettingsReloadTests
{
    [Fact(Timeout = 60_000)]
    public async Task Reload_RateLimitPermitsPerSecond_ChangesTheRunningStagesRate()
    {
        // At 5 a second, the 100 items after the reload would take 20 s; at 500 a second they take a fraction of one.
        var sink = new RecordingSink<int>();
        var lines = new ObservedQueue<string>();
        using var host = BuildReloadableHost(lines, services => services.AddPipeline("rated", p => p
            .From("read", Endless)
            .Then("call", x => x)
            .To("collect", sink)), new Dictionary<string, string?>
        {
            ["Pipelines:rated:Stages:call:Resilience:RateLimit:PermitsPerSecond"] = "5",
            ["Pipelines:rated:Stages:call:Resilience:RateLimit:Burst"] = "1",
            ["Pipelines:rated:Handoff:Capacity"] = "8",
        });
        await host.StartAsync().WaitAsync(Bound);
        await sink.WaitForCountAsync(2, "the first permits");

        Reload(host, ("Pipelines:rated:Stages:call:Resilience:RateLimit:PermitsPerSecond", "500"));
        var before = sink.Count;
        await sink.WaitForCountAsync(before + 100, "100 items at the new rate");
        await host.StopAsync().WaitAsync(Bound);

        Assert.Contains(lines, line => line.Contains("configuration reloaded", StringComparison.Ordinal)
            && line.Contains("Pipelines:rated:Stages:call:Resilience:RateLimit: PermitsPerSecond 500, Burst 5", StringComparison.Ordinal));
        AssertAccounted(await ServiceOf(host).Completion.WaitAsync(Bound));
    }

    [Fact(Timeout = 60_000)]
    public async Task Reload_LowerMaxFailures_FaultsTheRunningPipelineOnceExceeded()
    {
        var lines = new ObservedQueue<string>();
        var thrown = 0;
        var manyFailed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = BuildReloadableHost(lines, services => services.AddPipeline("budget", p => p
            .From("read", Endless)
            .Then<int>("check", x =>
            {
                if (x % 2 != 0)
                {
                    return x;
                }

                if (Interlocked.Increment(ref thrown) == 101)
                {
                    manyFailed.TrySetResult();
                }

                throw new FormatException("even");
            }, o => o.OnError = StageErrorMode.Skip)
            .To("collect", _ => { })), new Dictionary<string, string?>
        {
            ["Pipelines:budget:Stages:check:MaxFailures"] = "100000000",
        });
        await host.StartAsync().WaitAsync(Bound);
        await manyFailed.Task.WaitAsync(Bound);

        Reload(host, ("Pipelines:budget:Stages:check:MaxFailures", "5"));
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Contains("more than its MaxFailures of 5", result.Exception!.Message, StringComparison.Ordinal);
        AssertAccounted(result);
    }

    [Fact(Timeout = 60_000)]
    public async Task Reload_ProgressInterval_StartsProgressLinesOnARunningPipeline()
    {
        var lines = new ObservedQueue<string>();
        using var host = BuildReloadableHost(lines, services => services.AddPipeline("quiet", p => p
            .From("read", Endless)
            .To("collect", _ => { })));
        await host.StartAsync().WaitAsync(Bound);
        Assert.DoesNotContain(lines, line => line.Contains("progress:", StringComparison.Ordinal));

        Reload(host, ("Pipelines:quiet:Progress:Interval", "00:00:00.100"));
        await lines.WaitUntilAsync(logged => logged.Any(line => line.Contains("Pipeline quiet progress:", StringComparison.Ordinal)), "a progress line");

        // 00:00:00 turns the lines off again.
        Reload(host, ("Pipelines:quiet:Progress:Interval", "00:00:00"));
        await lines.WaitUntilAsync(logged => logged.Any(line => line.Contains("Pipelines:quiet:Progress:Interval: off", StringComparison.Ordinal)), "progress turned off");
        await host.StopAsync().WaitAsync(Bound);
    }

    [Fact(Timeout = 60_000)]
    public async Task Reload_TracingSampleRatio_StartsTracingItemsOfARunningPipeline()
    {
        var spans = new ObservedQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "Pipeline",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var lines = new ObservedQueue<string>();
        var source = new SourceProgress();
        using var host = BuildReloadableHost(lines, services => services.AddPipeline("traced-reload", p => p
            .From("read", source.Endless)
            .Then("work", x => x)
            .To("collect", _ => { })));
        await host.StartAsync().WaitAsync(Bound);
        await source.WaitForTakenAsync(1001, "untraced items");
        Assert.DoesNotContain(spans, span => span.OperationName == "stage work");

        Reload(host, ("Pipelines:traced-reload:Tracing:SampleRatio", "1"));
        await spans.WaitUntilAsync(stopped => stopped.Any(span => span.OperationName == "stage work"), "a traced item");
        await host.StopAsync().WaitAsync(Bound);

        Assert.Contains(lines, line => line.Contains("Pipelines:traced-reload:Tracing:SampleRatio: 1", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Reload_ShapeChangeOrInvalidValue_IsLoggedAndNotApplied_AndTheRunGoesOn()
    {
        var sink = new RecordingSink<int>();
        var lines = new ObservedQueue<string>();
        using var host = BuildReloadableHost(lines, services => services.AddPipeline("shaped", p => p
            .From("read", Endless)
            .Then("work", x => x, o => o.Parallelism = 2)
            .To("collect", sink)));
        await host.StartAsync().WaitAsync(Bound);

        Reload(host, ("Pipelines:shaped:Stages:work:Parallelism", "4"));
        Reload(host, ("Pipelines:shaped:Stages:work:Parallelism", "4"));
        Reload(host, ("Pipelines:shaped:Stages:work:Parallelism", "0"));
        var before = sink.Count;
        await sink.WaitForCountAsync(before + 101, "items to keep flowing");
        var run = ServiceOf(host).Run!;
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(2, run.Stages[1].Options.Parallelism);
        Assert.Single(lines, line => line.StartsWith("Warning:", StringComparison.Ordinal)
            && line.Contains("takes effect when it starts again", StringComparison.Ordinal)
            && line.Contains("Pipelines:shaped:Stages:work:Parallelism (2 → 4)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Error:", StringComparison.Ordinal)
            && line.Contains("Pipelines:shaped:Stages:work:Parallelism must be between 1 and 1024, was 0", StringComparison.Ordinal));
        AssertAccounted(await ServiceOf(host).Completion.WaitAsync(Bound));
    }

    private static IHost BuildReloadableHost(ObservedQueue<string> lines, Action<IServiceCollection> services, IDictionary<string, string?>? configuration = null) =>
        BuildHost(collection =>
        {
            collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Information).AddProvider(new ListLoggerProvider(lines)));
            services(collection);
        }, configuration);

    /// <summary>Sets the values and reloads the host's configuration, as a changed appsettings.json with reloadOnChange does.</summary>
    private static void Reload(IHost host, params (string Key, string Value)[] values)
    {
        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        foreach (var (key, value) in values)
        {
            configuration[key] = value;
        }

        configuration.Reload();
    }
}
