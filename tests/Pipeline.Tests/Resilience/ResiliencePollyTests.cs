using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Handoffs;
using Polly;
using Polly.Retry;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Resilience;

/// <summary>Polly's own options (MaxDelay, UseJitter) and pipelines registered with <c>AddResiliencePipeline</c>.</summary>
public class ResiliencePollyTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Retry_ExponentialWithMaxDelayAndJitter_NeverWaitsLongerThanMaxDelay(HandoffKind kind)
    {
        var time = new TimerSignalingTimeProvider();
        var attempted = new SemaphoreSlim(0);
        var attempts = 0;
        var sink = new RecordingSink<int>();
        var run = NewPipeline(kind)
            .From("numbers", ct => Range(1, ct))
            .Then("flaky", x =>
            {
                attempted.Release();
                return Interlocked.Increment(ref attempts) <= 5 ? throw new TimeoutException("transient") : x;
            }, o => o.Resilience = new ResilienceSettings
            {
                // Uncapped, the fifth retry would wait 16 s (1, 2, 4, 8, 16); the cap holds every wait to 2 s.
                Retry = new RetrySettings { MaxRetryAttempts = 5, Delay = TimeSpan.FromSeconds(1), BackoffType = DelayBackoffType.Exponential, MaxDelay = TimeSpan.FromSeconds(2), UseJitter = true },
            })
            .To("collect", sink)
            .Build(timeProvider: time)
            .Start();

        // After each failed attempt Polly starts its delay's timer; 2 s of fake time (the cap) must then bring the next attempt.
        Assert.True(await attempted.WaitAsync(Bound), "the first attempt");
        for (var retry = 1; retry <= 5; retry++)
        {
            Assert.True(await time.TimerCreated.WaitAsync(Bound), $"the delay before retry {retry}");
            time.Advance(TimeSpan.FromSeconds(2));
            Assert.True(await attempted.WaitAsync(Bound), $"retry {retry} within 2 s of fake time");
        }

        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(6, attempts);
        Assert.Equal([0], sink.Items);
        AssertAccounted(result);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RateLimit_HundredPerSecond_HoldsAThousandItemsToTenSecondsOfFakeTimeAndRejectsNone(HandoffKind kind)
    {
        // Burst 1: one permit at the start, then one per 10 ms of the run's clock. The test moves the clock 10 ms at a time and
        // waits for the one item each step lets through, so the rate, not the test's pace, sets how far the clock goes.
        var time = new FakeTimeProvider();
        using var arrived = new SemaphoreSlim(0);
        var sunk = 0;
        var run = NewPipeline(kind)
            .From("numbers", ct => Range(1_000, ct))
            .Then("call-api", x => x, o => o.Resilience = new ResilienceSettings { RateLimit = new RateLimitSettings { PermitsPerSecond = 100, Burst = 1 } })
            .To("collect", _ =>
            {
                Interlocked.Increment(ref sunk);
                arrived.Release();
            })
            .Build(timeProvider: time)
            .Start();
        var started = time.GetUtcNow();
        var realTime = System.Diagnostics.Stopwatch.StartNew();

        Assert.True(await arrived.WaitAsync(Bound), "the first permit never came");
        for (var step = 1; step < 1_000; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            Assert.True(await arrived.WaitAsync(Bound), $"step {step} let no item through");
            Assert.Equal(step + 1, Volatile.Read(ref sunk));
        }

        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(TimeSpan.FromSeconds(9.99), time.GetUtcNow() - started);
        Assert.True(realTime.Elapsed < TimeSpan.FromSeconds(5), $"the run took {realTime.Elapsed} of real time: the limiter follows a clock other than the run's");
        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(1_000, result.Sunk);
        Assert.Equal(0, result["call-api"].Failed);
        AssertAccounted(result);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(HandoffKind.Condition, 1000, 10, 500)]
    [InlineData(HandoffKind.Semaphore, 1000, 10, 500)]
    [InlineData(HandoffKind.Channel, 1000, 10, 500)]
    [InlineData(HandoffKind.Condition, 100, null, 200)]
    [InlineData(HandoffKind.Semaphore, 100, null, 200)]
    [InlineData(HandoffKind.Channel, 100, null, 200)]
    public async Task RateLimit_AfterItsBurst_HoldsTheRunToPermitsPerSecondAndRejectsNone(HandoffKind kind, double perSecond, int? burst, int items)
    {
        // The limiter refills in real time (System.Threading.RateLimiting takes no TimeProvider): the run can only be slower than
        // the limit allows, never faster. The burst (PermitsPerSecond when unset) goes at once; the rest at PermitsPerSecond.
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(items, ct))
            .Then("call-api", x => x, o => o.Resilience = new ResilienceSettings { RateLimit = new RateLimitSettings { PermitsPerSecond = perSecond, Burst = burst } })
            .To("collect", sink)
            .Build();
        var least = TimeSpan.FromSeconds(0.8 * (items - (burst ?? perSecond)) / perSecond);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var result = await pipeline.RunAsync().WaitAsync(Bound);
        var elapsed = stopwatch.Elapsed;

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(items, sink.Count);
        Assert.Equal(0, result["call-api"].Failed);
        Assert.True(elapsed >= least, $"{items} calls at {perSecond}/s after a burst of {burst ?? perSecond} took only {elapsed}, expected at least {least}");
        var most = (least / 0.8 * 3) + TimeSpan.FromSeconds(2);
        Assert.True(elapsed <= most, $"{items} calls at {perSecond}/s after a burst of {burst ?? perSecond} took {elapsed}, more than {most}: the limit is slower than its rate");
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task PollyTelemetry_LogsTheRetryButNotALinePerItem()
    {
        var logged = new ObservedQueue<string>();
        using var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(new ListLoggerProvider(logged)))
            .BuildServiceProvider();

        await RunRetryingOnceAsync(services, "test");

        Assert.Contains(logged, line => line.StartsWith("Warning:", StringComparison.Ordinal) && line.Contains("OnRetry", StringComparison.Ordinal));
        Assert.DoesNotContain(logged, line => line.Contains("Resilience pipeline executed", StringComparison.Ordinal) || line.Contains("Execution attempt", StringComparison.Ordinal) && line.StartsWith("Information:", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task PollyTelemetry_MetersTheRetryWithPipelineAndStage_ButNoEventOfEveryCall()
    {
        var pipelineName = $"polly-{Guid.NewGuid():N}";
        using var events = PollyMeter<int>("resilience.polly.strategy.events");
        using var attempts = PollyMeter<double>("resilience.polly.strategy.attempt.duration");
        using var executions = PollyMeter<double>("resilience.polly.pipeline.duration");
        using var services = new ServiceCollection().AddLogging().BuildServiceProvider();

        await RunRetryingOnceAsync(services, pipelineName);

        Assert.Single(events.GetMeasurementSnapshot(), m => IsOf(m.Tags, pipelineName, "flaky") && Equals(m.Tags.GetValueOrDefault("event.name"), "OnRetry"));

        // Only the failed attempt is timed; none of the 200 calls' successful attempts or executions is reported.
        Assert.Single(attempts.GetMeasurementSnapshot(), m => IsOf(m.Tags, pipelineName, "flaky"));
        Assert.DoesNotContain(executions.GetMeasurementSnapshot(), m => IsOf(m.Tags, pipelineName, "flaky"));
    }

    [Fact(Timeout = 30_000)]
    public async Task PollyTelemetry_MetersATimeoutAndItsFailedExecution_WithPipelineAndStage()
    {
        var pipelineName = $"polly-{Guid.NewGuid():N}";
        using var events = PollyMeter<int>("resilience.polly.strategy.events");
        using var executions = PollyMeter<double>("resilience.polly.pipeline.duration");
        using var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        var result = await NewPipeline(HandoffKind.Channel, name: pipelineName)
            .From("numbers", ct => Range(20, ct))
            .Then("slow", async (int x, CancellationToken ct) =>
            {
                if (x == 7)
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }

                return x;
            }, o =>
            {
                o.Resilience = new ResilienceSettings { Timeout = TimeSpan.FromMilliseconds(50) };
                o.OnError = StageErrorMode.Skip;
            })
            .To("collect", _ => { })
            .Build(services)
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Single(events.GetMeasurementSnapshot(), m => IsOf(m.Tags, pipelineName, "slow") && Equals(m.Tags.GetValueOrDefault("event.name"), "OnTimeout"));

        // The one failed execution is timed, with its exception; the 19 that succeeded are not reported.
        var failed = Assert.Single(executions.GetMeasurementSnapshot(), m => IsOf(m.Tags, pipelineName, "slow"));
        Assert.Equal(typeof(Polly.Timeout.TimeoutRejectedException).FullName, failed.Tags.GetValueOrDefault("exception.type"));
    }

    [Fact(Timeout = 30_000)]
    public async Task ResiliencePipelineName_UsesThePipelineRegisteredWithAddResiliencePipeline()
    {
        var attempts = 0;
        var sink = new RecordingSink<int>();
        using var host = BuildHost(
            services => services
                .AddResiliencePipeline("sql-store", builder => builder.AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 4, Delay = TimeSpan.Zero }))
                .AddPipeline("named", p => p
                    .From("read", ct => Range(5, ct))
                    .Then("flaky", x => x == 2 && Interlocked.Increment(ref attempts) <= 4 ? throw new TimeoutException("transient") : x)
                    .To("store", sink)),
            new Dictionary<string, string?> { ["Pipelines:named:Stages:flaky:Resilience:Pipeline"] = "sql-store" });

        await host.StartAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(5, attempts);
        Assert.Equal(Enumerable.Range(0, 5), sink.Items);
    }

    [Fact]
    public void IsEmpty_OnlyARegisteredPipelineWithNoStrategyThatCannotReload()
    {
        using var services = new ServiceCollection()
            .AddResiliencePipeline("noop", _ => { })
            .AddResiliencePipeline("timeout", builder => builder.AddTimeout(TimeSpan.FromSeconds(1)))
            .AddResiliencePipeline("reloadable", (_, context) => context.EnableReloads<ReloadProbeOptions>())
            .BuildServiceProvider();
        var registry = services.GetRequiredService<Polly.Registry.ResiliencePipelineProvider<string>>();

        Assert.True(StageResilience.IsEmpty(ResiliencePipeline.Empty));
        Assert.True(StageResilience.IsEmpty(registry.GetPipeline("noop")));
        Assert.False(StageResilience.IsEmpty(registry.GetPipeline("timeout")));
        Assert.False(StageResilience.IsEmpty(registry.GetPipeline("reloadable")));
    }

    [Fact]
    public void Create_ARegisteredPipelineWithNoStrategy_GivesTheStageNoResilienceToRun()
    {
        using var services = new ServiceCollection()
            .AddResiliencePipeline("noop", _ => { })
            .AddResiliencePipeline("timeout", builder => builder.AddTimeout(TimeSpan.FromSeconds(1)))
            .BuildServiceProvider();
        var lifecycle = new PipelineLifecycle("named", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System);

        Assert.Null(StageResilience.Create<int>(new ResilienceSettings { Pipeline = "noop" }, lifecycle, services, "flaky", _ => { }));
        Assert.NotNull(StageResilience.Create<int>(new ResilienceSettings { Pipeline = "timeout" }, lifecycle, services, "flaky", _ => { }));
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task ResiliencePipelineName_ARegisteredPipelineWithNoStrategy_EveryItemStillGoesThroughTheStage(HandoffKind kind)
    {
        using var services = new ServiceCollection().AddResiliencePipeline("noop", _ => { }).BuildServiceProvider();
        var sink = new RecordingSink<int>();
        var result = await NewPipeline(kind)
            .From("numbers", ct => Range(100, ct))
            .Then("twice", x => x * 2, o => o.Resilience = new ResilienceSettings { Pipeline = "noop" })
            .To("collect", sink)
            .Build(services)
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 100).Select(x => x * 2), sink.Items.Order());
    }

    [Theory(Timeout = 30_000)]
    [InlineData("Resilience:Pipeline", "nowhere", "Pipelines:named:Stages:flaky:Resilience:Pipeline names 'nowhere', which is not registered with AddResiliencePipeline")]
    [InlineData("Resilience:Retry:MaxDelay", "-00:00:01", "Pipelines:named:Stages:flaky:Resilience:Retry:MaxDelay must be between 00:00:00 and 1.00:00:00, was -00:00:01")]
    [InlineData("Resilience:Retry:MaxDelay", "00:00:00.001", "Pipelines:named:Stages:flaky:Resilience:Retry:MaxDelay must be at least Pipelines:named:Stages:flaky:Resilience:Retry:Delay (00:00:02, the default), was 00:00:00.0010000")]
    [InlineData("Resilience:Retry:UseJitter", "maybe", "Pipelines:named:Stages:flaky:Resilience:Retry:UseJitter must be true or false, was 'maybe'")]
    [InlineData("Resilience:RateLimit:PermitsPerSecond", "0", "Pipelines:named:Stages:flaky:Resilience:RateLimit:PermitsPerSecond must be more than 0, up to 1000000, was 0")]
    [InlineData("Resilience:RateLimit:PermitsPerSecond", "fast", "Pipelines:named:Stages:flaky:Resilience:RateLimit:PermitsPerSecond must be a number more than 0, up to 1000000, was 'fast'")]
    [InlineData("Resilience:Retry:BackoffType", "Quadratic", "Pipelines:named:Stages:flaky:Resilience:Retry:BackoffType must be one of Constant, Linear, Exponential, was 'Quadratic'")]
    public async Task BadResilienceSetting_FailsTheStartNamingTheKey(string key, string value, string expected)
    {
        using var host = BuildHost(
            services => services.AddPipeline("named", p => p.From("read", ct => Range(5, ct)).Then("flaky", x => x).To("store", _ => { })),
            new Dictionary<string, string?> { [$"Pipelines:named:Stages:flaky:{key}"] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains(expected, error.Failures);
    }

    [Fact(Timeout = 30_000)]
    public async Task ResiliencePipelineNameWithInlineKeys_FailsTheStart()
    {
        using var host = BuildHost(
            services => services
                .AddResiliencePipeline("sql-store", builder => builder.AddTimeout(TimeSpan.FromSeconds(1)))
                .AddPipeline("named", p => p.From("read", ct => Range(5, ct)).Then("flaky", x => x).To("store", _ => { })),
            new Dictionary<string, string?>
            {
                ["Pipelines:named:Stages:flaky:Resilience:Pipeline"] = "sql-store",
                ["Pipelines:named:Stages:flaky:Resilience:Timeout"] = "00:00:05",
            });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains(
            "Pipelines:named:Stages:flaky:Resilience:Pipeline names a registered resilience pipeline, so Pipelines:named:Stages:flaky:Resilience:Retry, Pipelines:named:Stages:flaky:Resilience:Timeout, Pipelines:named:Stages:flaky:Resilience:RateLimit and Pipelines:named:Stages:flaky:Resilience:CircuitBreaker must be unset",
            error.Failures);
    }

    /// <summary>Collects <paramref name="instrument"/> of Polly's meter, process-wide: select a test's own measurements with <see cref="IsOf"/>.</summary>
    internal static Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<T> PollyMeter<T>(string instrument)
        where T : struct => new(null, "Polly", instrument);

    /// <summary>Whether a Polly measurement's tags name <paramref name="pipelineName"/> and <paramref name="stage"/> (Polly's <c>pipeline.instance</c>).</summary>
    internal static bool IsOf(IReadOnlyDictionary<string, object?> tags, string pipelineName, string stage) =>
        Equals(tags.GetValueOrDefault("pipeline.name"), pipelineName) && Equals(tags.GetValueOrDefault("pipeline.instance"), stage);

    /// <summary>Runs 200 items through a stage "flaky" whose item 7 fails once, with a retry; the run must complete.</summary>
    private static async Task RunRetryingOnceAsync(IServiceProvider services, string pipelineName)
    {
        var failures = 0;
        var result = await NewPipeline(HandoffKind.Channel, name: pipelineName)
            .From("numbers", ct => Range(200, ct))
            .Then("flaky", x => x == 7 && Interlocked.Increment(ref failures) == 1 ? throw new TimeoutException("transient") : x,
                o => o.Resilience = new ResilienceSettings { Retry = new RetrySettings { MaxRetryAttempts = 2, Delay = TimeSpan.Zero } })
            .To("collect", _ => { })
            .Build(services)
            .RunAsync()
            .WaitAsync(Bound);
        Assert.Equal(PipelineStatus.Completed, result.Status);
    }

    /// <summary>Options a reloadable test pipeline listens to.</summary>
    private sealed class ReloadProbeOptions
    {
    }
}
