using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Stages;

/// <summary>Failure budgets per stage, and item failures logged at a volume a person can read.</summary>
public class FailureBudgetTests
{
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task AllBadLines_DeadLettered_LogAFewHundredLinesAtMost(HandoffKind kind)
    {
        var (result, lines) = await RunBadLinesAsync(kind, configure: null);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(100_000, result.DeadLettered);
        Assert.True(lines.Count <= 300, $"{lines.Count} log lines");
        Assert.Equal(ItemFailureLog.WarningsBeforeSummary, lines.Count(line => line.StartsWith("Warning: Pipeline lines: stage parse: an item failed and was dead-lettered", StringComparison.Ordinal)));
        var summaries = lines.Where(line => line.Contains("more items dead-lettered in the last", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(summaries);
        Assert.Contains("last: FormatException: bad line", summaries[^1], StringComparison.Ordinal);
        Assert.Equal(100_000 - ItemFailureLog.WarningsBeforeSummary, summaries.Sum(ParseCount));
        AssertAccounted(result);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task AllBadLines_MaxFailureRatioSet_FaultsNamingTheStageRatioAndLimit(HandoffKind kind)
    {
        var (result, lines) = await RunBadLinesAsync(kind, o => o.MaxFailureRatio = 0.01);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Equal("parse", result.FaultedStage);
        Assert.Matches("Stage 'parse' failed 100 of its 100 items, a ratio of 1, more than its MaxFailureRatio of 0.01", result.Exception!.Message);
        Assert.True(result.Yielded < 100_000, result.ToString());
        Assert.True(lines.Count <= 300, $"{lines.Count} log lines");
        AssertAccounted(result);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task AllBadLines_OrderedParallelStage_RatioCountsOnlyItemsStageCodeTook(HandoffKind kind)
    {
        // Inputs dealt to the ordered stage's lanes and not yet processed are not in the ratio: it counts what stage code saw.
        var (result, _) = await RunBadLinesAsync(kind, o =>
        {
            o.MaxFailureRatio = 0.01;
            o.Parallelism = 4;
            o.Ordered = true;
        });

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        var match = System.Text.RegularExpressions.Regex.Match(result.Exception!.Message, @"failed (\d+) of its (\d+) items");
        Assert.True(match.Success, result.Exception.Message);
        var failed = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var taken = int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(taken >= 100 && taken - failed <= 8, result.Exception.Message);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task MaxFailures_Exceeded_FaultsNamingTheStageCountAndLimit()
    {
        var pipeline = NewPipeline(HandoffKind.Channel)
            .From("src", Enumerable.Range(0, 1000))
            .Then("check", x => x % 10 == 0 ? throw new FormatException("tenth") : x, o =>
            {
                o.OnError = StageErrorMode.Skip;
                o.MaxFailures = 5;
            })
            .To("sink", _ => { })
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Equal("Stage 'check' failed 6 items, more than its MaxFailures of 5.", result.Exception!.Message);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task MaxFailureRatio_FewerItemsThanTheMinimum_DoesNotFault()
    {
        var pipeline = NewPipeline(HandoffKind.Channel)
            .From("src", Enumerable.Range(0, 50))
            .Then("check", x => x % 2 == 0 ? throw new FormatException("even") : x, o =>
            {
                o.OnError = StageErrorMode.Skip;
                o.MaxFailureRatio = 0.1;
            })
            .To("sink", _ => { })
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(25, result.Skipped);
        AssertAccounted(result);
    }

    [Fact]
    public void StageOptions_BadBudgetInCode_ThrowsNamingTheStageAndValue()
    {
        var error = Assert.Throws<ArgumentException>(() => new PipelineBuilder("p")
            .From("src", Enumerable.Range(0, 1))
            .Then("check", x => x, o => o.MaxFailureRatio = 2));

        Assert.Contains("Stage 'check':MaxFailureRatio must be between 0 and 1, was 2", error.Message, StringComparison.Ordinal);
    }

    private static long ParseCount(string summary)
    {
        var marker = "parse: ";
        var start = summary.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        return long.Parse(summary[start..summary.IndexOf(' ', start)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<(PipelineResult Result, List<string> Lines)> RunBadLinesAsync(HandoffKind kind, Action<StageOptions>? configure)
    {
        var logged = new ObservedQueue<string>();
        var store = new CountingStore();
        using var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Information).AddProvider(new Hosting.PipelineHostedServiceTests.ListLoggerProvider(logged)))
            .AddSingleton<IDeadLetterStore>(store)
            .BuildServiceProvider();
        var lines = Enumerable.Range(0, 100_000).Select(i => $"garbage line {i}");
        var pipeline = NewPipeline(kind, capacity: 256, name: "lines")
            .From("read", lines)
            .Then<int>("parse", line => throw new FormatException("bad line"), o =>
            {
                o.OnError = StageErrorMode.DeadLetter;
                configure?.Invoke(o);
            })
            .To("store", _ => { })
            .Build(services);

        var result = await pipeline.RunAsync().WaitAsync(TimeSpan.FromSeconds(50));

        // The logger filter drops Debug lines before they reach the provider, as a host's configuration would.
        return (result, logged.Where(line => !line.StartsWith("Debug", StringComparison.Ordinal)).ToList());
    }

    private sealed class CountingStore : IDeadLetterStore
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return default;
        }
    }
}
