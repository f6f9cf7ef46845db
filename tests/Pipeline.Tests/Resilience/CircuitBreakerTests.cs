using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Handoffs;
using Polly;
using Polly.CircuitBreaker;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Resilience;

/// <summary>The circuit breaker of a stage: an open circuit pauses the stage (the default) or fails its items fast.</summary>
public class CircuitBreakerTests
{
    private static readonly TimeSpan s_breakDuration = TimeSpan.FromSeconds(5);

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Pause_DependencyDown_HoldsTheSourceBackDeadLettersNothingAndFlowsAfterTheProbe(HandoffKind kind)
    {
        using var pollyEvents = ResiliencePollyTests.PollyMeter<int>("resilience.polly.strategy.events");
        var dependency = new Dependency();
        var harness = new Harness(kind, CircuitOpenBehavior.Pause, items: 40, dependency);
        var run = harness.Pipeline.Start();
        Assert.True(await harness.Time.TimerCreated.WaitAsync(Bound), "the pause");

        // Item 0's two attempts fail and open the circuit; the third meets it open. The worker then waits with item 0, its input
        // handoff (capacity 4) fills with items 1-4, and the source, asked for item 5, holds it in a blocked write.
        await harness.Source.WaitForTakenAsync(5, "the handoff to fill behind the paused worker");
        Assert.Equal(4, run.Stages[1].InputDepth);
        // The worker waits on the fake clock, which stands still, so nothing more can happen: the source is held (never asked for
        // item 6), and the item that met the open circuit has neither failed nor been dead-lettered.
        var held = run.GetStatistics();
        Assert.Equal(5, harness.Source.Taken);
        Assert.Equal(2, dependency.Calls);
        Assert.Equal(0, held[1].Failed);
        Assert.Empty(harness.Store.Letters);
        Assert.Equal(0, harness.Sink.Count);
        Assert.Contains(harness.Logged, line => line.StartsWith("Warning: Pipeline breaker: stage call-api: circuit opened for 00:00:05", StringComparison.Ordinal));

        dependency.Up();
        harness.Time.Advance(s_breakDuration);
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 40), harness.Sink.Items);
        Assert.Empty(harness.Store.Letters);
        Assert.Equal(0, result["call-api"].Failed);
        Assert.Equal(42, dependency.Calls);
        Assert.Contains(harness.Logged, line => line.StartsWith("Information: Pipeline breaker: stage call-api: circuit closed", StringComparison.Ordinal));
        AssertAccounted(result);

        // Polly's meter has the transitions too, with the pipeline and the stage.
        var transitions = pollyEvents.GetMeasurementSnapshot()
            .Where(m => ResiliencePollyTests.IsOf(m.Tags, "breaker", "call-api"))
            .Select(m => m.Tags.GetValueOrDefault("event.name"))
            .ToList();
        Assert.Contains("OnCircuitOpened", transitions);
        Assert.Contains("OnCircuitHalfOpened", transitions);
        Assert.Contains("OnCircuitClosed", transitions);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Pause_ProbeFails_StaysPausedUntilALaterProbeSucceeds(HandoffKind kind)
    {
        var dependency = new Dependency();
        var harness = new Harness(kind, CircuitOpenBehavior.Pause, items: 10, dependency);
        var run = harness.Pipeline.Start();
        Assert.True(await harness.Time.TimerCreated.WaitAsync(Bound), "the pause after the circuit opened");
        Assert.Equal(2, dependency.Calls);

        // The first probe fails: the circuit opens again and the item waits another break, still not failed.
        harness.Time.Advance(s_breakDuration);
        Assert.True(await harness.Time.TimerCreated.WaitAsync(Bound), "the pause after the failed probe");
        Assert.Equal(3, dependency.Calls);
        Assert.Empty(harness.Store.Letters);

        dependency.Up();
        harness.Time.Advance(s_breakDuration);
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 10), harness.Sink.Items);
        Assert.Empty(harness.Store.Letters);
        Assert.Equal(2, harness.Logged.Count(line => line.Contains("circuit opened", StringComparison.Ordinal)));
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Pause_ShutdownDeadline_GivesUpThePausedItemAndEverythingWaiting(HandoffKind kind)
    {
        var dependency = new Dependency();
        var harness = new Harness(kind, CircuitOpenBehavior.Pause, items: 40, dependency);
        var run = harness.Pipeline.Start();
        await harness.Source.WaitForTakenAsync(5, "the handoff to fill behind the paused worker");
        Assert.Equal(4, run.Stages[1].InputDepth);

        var result = await run.StopWithinAsync(TimeSpan.FromSeconds(1)).WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Aborted, result.Status);
        Assert.Equal(6, harness.Store.Letters.Count);
        Assert.All(harness.Store.Letters, letter => Assert.Equal("ShutdownTimeout", letter.Reason));
        Assert.Contains(harness.Store.Letters, letter => (int)letter.Item! == 0);
        Assert.Equal(2, dependency.Calls);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Fail_DependencyDown_FailsFastAndDeadLettersEveryItem(HandoffKind kind)
    {
        var dependency = new Dependency();
        var harness = new Harness(kind, CircuitOpenBehavior.Fail, items: 10, dependency);

        var result = await harness.Pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(10, result["call-api"].DeadLettered);
        Assert.Equal(Enumerable.Range(0, 10), harness.Store.Letters.Select(letter => (int)letter.Item!).Order());
        Assert.All(harness.Store.Letters, letter => Assert.IsType<BrokenCircuitException>(letter.Exception));

        // Only item 0's two attempts reached the dependency: every later call met the open circuit.
        Assert.Equal(2, dependency.Calls);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task HealthyRun_LogsNothingAboutTheBreaker()
    {
        var dependency = new Dependency();
        dependency.Up();
        var harness = new Harness(HandoffKind.Channel, CircuitOpenBehavior.Pause, items: 200, dependency);

        var result = await harness.Pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(200, harness.Sink.Count);
        Assert.DoesNotContain(harness.Logged, line => line.StartsWith("Warning:", StringComparison.Ordinal) || line.StartsWith("Error:", StringComparison.Ordinal));
        Assert.DoesNotContain(harness.Logged, line => line.Contains("circuit", StringComparison.OrdinalIgnoreCase));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("FailureRatio", "-0.5", "Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:FailureRatio must be between 0 and 1, was -0.5")]
    [InlineData("FailureRatio", "half", "Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:FailureRatio must be a number between 0 and 1, was 'half'")]
    [InlineData("MinimumThroughput", "1", "Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:MinimumThroughput must be 2 or more, was 1")]
    [InlineData("SamplingDuration", "00:00:00.1", "Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:SamplingDuration must be between 00:00:00.5000000 and 1.00:00:00, was 00:00:00.1000000")]
    [InlineData("BreakDuration", "2.00:00:00", "Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:BreakDuration must be between 00:00:00.5000000 and 1.00:00:00, was 2.00:00:00")]
    [InlineData("WhenOpen", "Sometimes", "Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:WhenOpen must be one of Pause, Fail, was 'Sometimes'")]
    [InlineData("Threshold", "3", "Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:Threshold is not a known setting; allowed: FailureRatio, MinimumThroughput, SamplingDuration, BreakDuration, WhenOpen")]
    public async Task BadCircuitBreakerSetting_FailsTheStartNamingTheKeyTheValueAndTheAllowedValues(string key, string value, string expected)
    {
        using var host = BuildHost(
            services => services.AddPipeline("named", p => p.From("read", ct => Range(5, ct)).Then("flaky", x => x).To("store", _ => { })),
            new Dictionary<string, string?> { [$"Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:{key}"] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains(expected, error.Failures);
    }

    [Fact(Timeout = 30_000)]
    public async Task CircuitBreakerWithARegisteredPipeline_FailsTheStart()
    {
        using var host = BuildHost(
            services => services
                .AddResiliencePipeline("sql-store", builder => builder.AddTimeout(TimeSpan.FromSeconds(1)))
                .AddPipeline("named", p => p.From("read", ct => Range(5, ct)).Then("flaky", x => x).To("store", _ => { })),
            new Dictionary<string, string?>
            {
                ["Pipelines:named:Stages:flaky:Resilience:Pipeline"] = "sql-store",
                ["Pipelines:named:Stages:flaky:Resilience:CircuitBreaker:BreakDuration"] = "00:00:05",
            });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains(error.Failures, failure => failure.StartsWith(
            "Pipelines:named:Stages:flaky:Resilience:Pipeline names a registered resilience pipeline, so", StringComparison.Ordinal)
            && failure.Contains("Pipelines:named:Stages:flaky:Resilience:CircuitBreaker must be unset", StringComparison.Ordinal));
    }

    [Fact]
    public void Ranges_AreThoseOfPollysCircuitBreakerStrategyOptions()
    {
        static RangeAttribute RangeOf(string property) =>
            (RangeAttribute)Attribute.GetCustomAttribute(typeof(CircuitBreakerStrategyOptions<object>).GetProperty(property)!, typeof(RangeAttribute))!;

        Assert.Equal(0.0, Convert.ToDouble(RangeOf("FailureRatio").Minimum, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1.0, Convert.ToDouble(RangeOf("FailureRatio").Maximum, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(CircuitBreakerSettings.MinMinimumThroughput, Convert.ToInt32(RangeOf("MinimumThroughput").Minimum, System.Globalization.CultureInfo.InvariantCulture));
        foreach (var duration in new[] { "SamplingDuration", "BreakDuration" })
        {
            Assert.Equal(CircuitBreakerSettings.MinDuration, TimeSpan.Parse((string)RangeOf(duration).Minimum, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(CircuitBreakerSettings.MaxDuration, TimeSpan.Parse((string)RangeOf(duration).Maximum, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>A dependency that fails every call until <see cref="Up"/>.</summary>
    private sealed class Dependency
    {
        private volatile bool _up;
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public void Up() => _up = true;

        public int Call(int item)
        {
            Interlocked.Increment(ref _calls);
            return _up ? item : throw new HttpRequestException("the dependency is down");
        }
    }

    /// <summary>
    /// numbers → call-api (the dependency; two attempts per call, a breaker that opens at half of two calls failing) → collect, on a
    /// fake clock, with a dead-letter store and a log.
    /// </summary>
    private sealed class Harness
    {
        public Harness(HandoffKind kind, CircuitOpenBehavior whenOpen, int items, Dependency dependency)
        {
            var services = new ServiceCollection()
                .AddSingleton<IDeadLetterStore>(Store)
                .AddLogging(logging => logging.AddProvider(new ListLoggerProvider(Logged)))
                .BuildServiceProvider();
            Pipeline = NewPipeline(kind, capacity: 4, name: "breaker")
                .From("numbers", ct => Source.Range(items, ct))
                .Then("call-api", dependency.Call, o =>
                {
                    o.OnError = StageErrorMode.DeadLetter;
                    o.Resilience = new ResilienceSettings
                    {
                        Retry = new RetrySettings { MaxRetryAttempts = 2, Delay = TimeSpan.Zero },
                        CircuitBreaker = new CircuitBreakerSettings
                        {
                            FailureRatio = 0.5,
                            MinimumThroughput = 2,
                            SamplingDuration = TimeSpan.FromSeconds(30),
                            BreakDuration = s_breakDuration,
                            WhenOpen = whenOpen,
                        },
                    };
                })
                .To("collect", Sink)
                .Build(services, timeProvider: Time);
        }

        public TimerSignalingTimeProvider Time { get; } = new();

        /// <summary>The source: tells how many items the pipeline has taken from it.</summary>
        public SourceProgress Source { get; } = new();

        public MemoryStore Store { get; } = new();

        public ObservedQueue<string> Logged { get; } = new();

        public RecordingSink<int> Sink { get; } = new();

        public DataPipeline Pipeline { get; }
    }

    private sealed class MemoryStore : IDeadLetterStore
    {
        public ConcurrentQueue<DeadLetter> Letters { get; } = new();

        public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            Letters.Enqueue(deadLetter);
            return default;
        }
    }
}
