using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Handoffs;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Diagnostics;

/// <summary>Busy, starved and blocked time per stage, and the report that names the stage limiting a run.</summary>
public class BottleneckReportTests
{
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task SlowMiddleStage_IsNamed_WithItsUpstreamBlockedAndItsDownstreamStarved(HandoffKind kind)
    {
        var logged = new ObservedQueue<string>();
        using var services = new ServiceCollection().AddLogging(logging => logging.AddProvider(new ListLoggerProvider(logged))).BuildServiceProvider();
        var time = new FakeTimeProvider();
        var pipeline = NewPipeline(kind, capacity: 4, name: "slowpoke")
            .From("read", Enumerable.Range(0, 300))
            .Then("quick", x => x + 1)
            .Then<int>("slow", x =>
            {
                // The stage's work takes 1 ms of the run's clock, which the report measures by; no real time passes.
                time.Advance(TimeSpan.FromMilliseconds(1));
                return x;
            })
            .To("sink", _ => { })
            .Build(services, timeProvider: time);

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        var report = result.Bottleneck;
        Assert.Equal("slow", report.LimitingStage);
        Assert.Contains("raise Pipelines:slowpoke:Stages:slow:Parallelism (now 1) if it can run in parallel", report.Advice, StringComparison.Ordinal);
        var slow = result["slow"];
        Assert.True(slow.Busy > slow.Elapsed * 0.5, $"slow busy {slow.Busy} of {slow.Elapsed}");
        Assert.True(result["read"].Blocked > result["read"].Elapsed * 0.5, $"read: {report}");
        Assert.True(result["sink"].Starved > result["sink"].Elapsed * 0.5, $"sink: {report}");
        Assert.Equal(TimeSpan.Zero, result["sink"].Blocked);
        Assert.Contains(logged, line => line.Contains("Pipeline slowpoke: ", StringComparison.Ordinal) && line.Contains("Bottleneck: slow", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task SlowSinkBehindWideHandoffs_IsNamedAndNotTheSourceThatEndedEarly()
    {
        // The handoffs hold every item, so the source ends at once: it must not look "busy" for the run.
        var time = new FakeTimeProvider();
        var result = await NewPipeline(HandoffKind.Channel, capacity: 1024, name: "sinkbound")
            .From("read", Enumerable.Range(0, 200))
            .Then("quick", x => x)
            .To("sink", (int _) => time.Advance(TimeSpan.FromMilliseconds(1))) // its work takes 1 ms of the run's clock
            .Build(timeProvider: time)
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal("sink", result.Bottleneck.LimitingStage);
        Assert.True(result["read"].Elapsed < result["sink"].Elapsed, result.Bottleneck.Text);
    }

    [Fact(Timeout = 60_000)]
    public async Task ParallelOrderedSlowStage_CountsEveryWorkersTime()
    {
        var pipeline = NewPipeline(HandoffKind.Condition, capacity: 8)
            .From("read", Enumerable.Range(0, 200))
            .Then<int>("slow", async (x, ct) =>
            {
                // Time is under test: four workers each wait 1 ms at once, and the report must count every worker's time. One
                // fake clock cannot model work that overlaps (advancing it for one worker counts as waiting for the other
                // three), so this stage waits on the real clock; nothing is ordered by the delay.
                await Task.Delay(1, ct);
                return x;
            }, o =>
            {
                o.Parallelism = 4;
                o.Ordered = true;
            })
            .To("sink", _ => { })
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        var slow = result["slow"];
        Assert.Equal(4, slow.Workers);
        Assert.Equal("slow", result.Bottleneck.LimitingStage);
        Assert.Contains("slow busy", result.Bottleneck.Shares, StringComparison.Ordinal);
        Assert.Contains("of 4 workers", result.Bottleneck.Shares, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task SourceThatWaitsForInput_NoStageLimits()
    {
        var time = new FakeTimeProvider();
        IEnumerable<int> Trickle()
        {
            for (var x = 0; x < 20; x++)
            {
                // A source waiting 10 ms of the run's clock for each input; no real time passes.
                time.Advance(TimeSpan.FromMilliseconds(10));
                yield return x;
            }
        }

        var result = await NewPipeline(HandoffKind.Channel).From("read", Trickle()).Then("work", x => x).To("sink", _ => { }).Build(timeProvider: time).RunAsync().WaitAsync(Bound);

        // The source's own waiting counts as its work: it is the one that limits this run.
        Assert.Equal("read", result.Bottleneck.LimitingStage);
        Assert.StartsWith("The source read limits the run", result.Bottleneck.Advice, StringComparison.Ordinal);
        Assert.True(result["sink"].Starved > result["sink"].Elapsed * 0.5, result.Bottleneck.Text);
    }
}

/// <summary>The progress line logged every <c>Progress:Interval</c>.</summary>
public class ProgressLineTests
{
    [Fact(Timeout = 30_000)]
    public async Task ProgressInterval_LogsALinePerIntervalWithEachStagesRateAndFill()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var logged = new ObservedQueue<string>();
        using var services = new ServiceCollection().AddLogging(logging => logging.AddProvider(new ListLoggerProvider(logged))).BuildServiceProvider();
        var configuration = new PipelineOptions { ProgressInterval = TimeSpan.FromSeconds(5) };
        var source = new SourceProgress();
        var run = NewPipeline(HandoffKind.Channel, capacity: 8, name: "progressing")
            .From("read", source.Endless)
            .Then("parse", x => x)
            .To("store", _ => { })
            .Build(services, configuration, time)
            .Start();
        // Past 100 items, two handoffs of 8 and the two stages' items in hand: the store has written more than 100.
        await source.WaitForTakenAsync(101 + (2 * 8) + 2, "items to flow");
        Assert.DoesNotContain(logged, line => line.Contains("progress:", StringComparison.Ordinal));

        time.Advance(TimeSpan.FromSeconds(5));
        await logged.WaitUntilAsync(lines => lines.Any(line => line.Contains("Pipeline progressing progress:", StringComparison.Ordinal)), "a progress line");
        await run.StopAsync().WaitAsync(Bound);

        var line = logged.First(line => line.Contains("progress:", StringComparison.Ordinal));
        Assert.Matches(@"progress: 5\.0 s; read [\d,]+ \([\d,]+/s\); parse [\d,]+ \([\d,]+/s\), input \d+/8; store [\d,]+ \([\d,]+/s\), input \d+/8; store wrote [\d,]+, failed 0", line);
    }

    [Fact(Timeout = 30_000)]
    public async Task ProgressInterval_TooShort_FailsTheStartNamingTheKey()
    {
        using var host = BuildHost(
            services => services.AddPipeline("progressing", p => p.From("read", ct => Range(1, ct)).To("sink", _ => { })),
            new Dictionary<string, string?> { ["Pipelines:progressing:Progress:Interval"] = "00:00:00.010" });

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Equal(["Pipelines:progressing:Progress:Interval must be 00:00:00 (off) or at least 00:00:00.1000000, was 00:00:00.0100000"], error.Failures);
    }
}
