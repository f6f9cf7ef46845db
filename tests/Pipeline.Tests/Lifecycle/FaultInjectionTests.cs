using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;
using Xunit.Abstractions;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Lifecycle;

/// <summary>
/// Seeded random runs: random exceptions, random <see cref="StageErrorMode"/>, random stop, random deadline abort, random
/// handoff kind, capacity and parallelism. After every run every item the source yielded is accounted for exactly once.
/// </summary>
public class FaultInjectionTests(ITestOutputHelper output)
{
    /// <summary>Seeds per run of the test; <c>PIPELINE_FAULT_RUNS</c> raises it to hunt rare races locally (e.g. 2000).</summary>
    private static readonly int Runs = int.TryParse(Environment.GetEnvironmentVariable("PIPELINE_FAULT_RUNS"), out var runs) && runs > 0 ? runs : 100;
    private const int Items = 10_000;

    [Fact(Timeout = 1_200_000)]
    public async Task RandomFaultsStopsAndAborts_EveryRun_AccountsForEveryYieldedIdOnce()
    {
        var stopwatch = Stopwatch.StartNew();
        var slowest = (Seed: -1, Time: TimeSpan.Zero);
        var only = Environment.GetEnvironmentVariable("PIPELINE_FAULT_SEED");
        for (var seed = 0; seed < Runs; seed++)
        {
            if (only is not null && only != seed.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            var scenario = await RunOnceAsync(seed).WaitAsync(TimeSpan.FromSeconds(40));
            if (Stopwatch.GetElapsedTime(started) > slowest.Time)
            {
                slowest = (seed, Stopwatch.GetElapsedTime(started));
                output.WriteLine($"{scenario} took {slowest.Time}");
            }
        }

        output.WriteLine($"slowest run: seed {slowest.Seed} in {slowest.Time}");

        output.WriteLine($"{Runs} runs of {Items} items in {stopwatch.Elapsed}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(Math.Max(1, Runs / 100)), $"{Runs} runs took {stopwatch.Elapsed}");
    }

    private static async Task<string> RunOnceAsync(int seed)
    {
        var random = new Random(seed);
        var kind = (HandoffKind)random.Next(3);
        var capacity = new[] { 8, 32, 128, 512 }[random.Next(4)];
        var transformMode = (StageErrorMode)random.Next(3);
        var sinkMode = (StageErrorMode)random.Next(3);
        var transformParallelism = new[] { 1, 2, 4 }[random.Next(3)];
        var ordered = random.Next(2) == 0;
        var sinkParallelism = random.Next(1, 3);
        var failureRate = new[] { 0, 0.0005, 0.005, 0.05 }[random.Next(4)];
        var ending = random.Next(3); // 0: source ends, 1: stop part-way, 2: deadline abort with a sink item that never finishes
        var stopAfter = random.Next(10, Items);
        var stuckId = random.Next(10, Items / 2);
        var failing = Enumerable.Range(0, Items).Where(_ => random.NextDouble() < failureRate).ToHashSet();
        var failingInSink = failing.Where(_ => random.Next(2) == 0).ToHashSet();
        var scenario = $"seed {seed}: {kind} capacity {capacity}, transform {transformMode}×{transformParallelism}{(ordered ? " ordered" : string.Empty)}, sink {sinkMode}×{sinkParallelism}, {failing.Count} failing, ending {ending}";

        var store = new IdStore();
        var sunk = new ConcurrentQueue<int>();
        var skipped = new ConcurrentQueue<int>();
        PipelineRun? run = null;
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(store).BuildServiceProvider();
        var pipeline = NewPipeline(kind, capacity, name: "inject")
            .From("read", Enumerable.Range(0, Items))
            .Then("transform", id =>
            {
                if (failing.Contains(id) && !failingInSink.Contains(id))
                {
                    Fail(id, transformMode, skipped);
                }

                return id;
            }, o =>
            {
                o.OnError = transformMode;
                o.Parallelism = transformParallelism;
                o.Ordered = ordered;
            })
            .To("sink", async (int id, CancellationToken ct) =>
            {
                if (ending == 2 && id == stuckId)
                {
                    stopped.TrySetResult();
                    await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                }

                if (failing.Contains(id) && failingInSink.Contains(id))
                {
                    Fail(id, sinkMode, skipped);
                }

                sunk.Enqueue(id);
                if (ending == 1 && id == stopAfter)
                {
                    run!.RequestStop();
                }
            }, o =>
            {
                o.OnError = sinkMode;
                o.Parallelism = sinkParallelism;
            })
            .Build(services);

        run = pipeline.Start();
        PipelineResult result;
        if (ending == 2)
        {
            // Either the sink reaches the stuck item, or the run ends first (a fault stopped it).
            await Task.WhenAny(stopped.Task, run.Completion).WaitAsync(Bound);
            result = await run.StopWithinAsync(TimeSpan.FromMilliseconds(random.Next(20, 120))).WaitAsync(Bound);
        }
        else
        {
            var ended = await Task.WhenAny(run.Completion, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.True(ended == run.Completion, $"{scenario}: the run did not end: {string.Join("; ", run.GetStatistics())}");
            result = await run.Completion;
        }

        var sunkIds = sunk.ToArray();
        var deadIds = store.Ids.ToArray();
        var skippedIds = skipped.ToArray();
        Assert.True(result.IsAccounted, $"{scenario}: {string.Join("; ", result.DescribeAccountingErrors())}");
        Assert.True(result.InFlight == 0 && result.InHandoffs == 0, $"{scenario}: {result}");
        Assert.True(sunkIds.Length == sunkIds.Distinct().Count(), $"{scenario}: an id was sunk twice");
        Assert.True(deadIds.Length == deadIds.Distinct().Count(), $"{scenario}: an id was dead-lettered twice");
        Assert.Equal(result.DeadLettered, deadIds.Length);
        Assert.Equal(result.Skipped, skippedIds.Length);
        Assert.Equal(0, result.Dropped + result.Abandoned);
        var ends = sunkIds.Concat(deadIds).Concat(skippedIds).Order().ToArray();
        Assert.True(ends.SequenceEqual(Enumerable.Range(0, (int)result.Yielded)), $"{scenario}: ids accounted for differ from ids yielded ({ends.Length} vs {result.Yielded}): {result}");
        return $"{scenario}: {result.Status}";
    }

    private static void Fail(int id, StageErrorMode mode, ConcurrentQueue<int> skipped)
    {
        if (mode == StageErrorMode.Skip)
        {
            skipped.Enqueue(id);
        }

        throw new InvalidOperationException($"injected failure of item {id}");
    }

    private sealed class IdStore : IDeadLetterStore
    {
        public ConcurrentQueue<int> Ids { get; } = new();

        public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            Ids.Enqueue((int)deadLetter.Item!);
            return default;
        }
    }
}
