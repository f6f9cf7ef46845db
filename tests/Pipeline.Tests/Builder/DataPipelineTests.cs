using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Builder;

public partial class DataPipelineTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_SourceEnds_EveryItemReachesTheSinkInOrder(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(1000, ct))
            .Then("increment", x => x + 1)
            .Then("double", x => x * 2)
            .To("collect", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 1000).Select(x => (x + 1) * 2), sink.Items);
        Assert.Equal(1000, result["collect"].Out);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_ParallelOrdered_KeepsInputOrderWhileWorkersOverlap(HandoffKind kind)
    {
        const int Workers = 4;
        var active = 0;
        var maxActive = 0;
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(2000, ct))
            .Then("slow-then-fast", async (int x, CancellationToken ct) =>
            {
                var now = Interlocked.Increment(ref active);
                InterlockedMax(ref maxActive, now);

                // Uneven work, so that later items often finish before earlier ones.
                for (var spins = 0; spins < (x % 5) * 3; spins++)
                {
                    await Task.Yield();
                }

                Interlocked.Decrement(ref active);
                return x;
            }, o => { o.Parallelism = Workers; o.Ordered = true; })
            .To("collect", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 2000), sink.Items);
        Assert.True(maxActive > 1, $"The workers never overlapped (max {maxActive}).");
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_ParallelUnordered_DeliversEveryItemOnce(HandoffKind kind)
    {
        var sink = new RecordingSink<long>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(2000, ct))
            .Then("square", x => (long)x * x, o => { o.Parallelism = 3; o.Ordered = false; })
            .To("collect", sink, o => o.Parallelism = 2)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(0, 2000).Select(x => (long)x * x), sink.Items.Order());
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_ThenMany_EmitsZeroOrMoreOutputsPerInputInOrder(HandoffKind kind)
    {
        var sink = new RecordingSink<string>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(50, ct))
            .ThenMany("repeat", x => Enumerable.Repeat($"{x}", x % 3))
            .To("collect", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        var expected = Enumerable.Range(0, 50).SelectMany(x => Enumerable.Repeat($"{x}", x % 3)).ToArray();
        Assert.Equal(expected, sink.Items);
        Assert.Equal(50, result["repeat"].Out);
        Assert.Equal(expected.Length, result["repeat"].Produced);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_ThenManyParallelOrdered_KeepsOrderAcrossVariableFanOut(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(500, ct))
            .ThenMany<int>("expand", async (x, output, ct) =>
            {
                await Task.Yield();
                for (var i = 0; i < x % 4; i++)
                {
                    output.Add(x * 10 + i);
                }
            }, o => o.Parallelism = 3)
            .To("collect", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(0, 500).SelectMany(x => Enumerable.Range(0, x % 4).Select(i => x * 10 + i)), sink.Items);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Start_StagesWithHooks_StartSinkFirstAndSourceReadsLast(HandoffKind kind)
    {
        var events = new ObservedQueue<string>();
        var sinkGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipeline = NewPipeline(kind)
            .From("source", new HookRecorder(events, "source"))
            .Then("first", new HookRecorder(events, "first"))
            .Then("second", new HookRecorder(events, "second"))
            .To("sink", new HookRecorder(events, "sink", sinkGate.Task))
            .Build();

        var run = pipeline.Start();
        await events.WaitUntilAsync(recorded => recorded.Contains("start:sink"), "the sink's start hook");

        // While the sink is not ready, nothing upstream starts and the source produces nothing.
        Assert.Equal(["start:sink"], events);
        Assert.False(run.Ready.IsCompleted);
        sinkGate.SetResult();
        await run.Ready.WaitAsync(Bound);
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(["start:sink", "start:second", "start:first", "start:source", "read:source"], events.Take(5));
        Assert.Equal(["stop:source", "stop:first", "stop:second", "stop:sink"], events.Where(e => e.StartsWith("stop:", StringComparison.Ordinal)));
        Assert.Equal(3, result["sink"].Out);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RequestStop_ItemsInFlight_DrainsEverythingTheSourceRead(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var source = new SourceProgress();
        var pipeline = NewPipeline(kind, capacity: 8)
            .From("endless", source.Endless)
            .Then("increment", x => x + 1, o => o.Parallelism = 2)
            .Then("double", x => x * 2)
            .To("collect", sink)
            .Build();
        sink.Close();
        var run = pipeline.Start();

        // The sink holds: every handoff fills up and the source blocks with an item in hand.
        await source.WaitForTakenAsync(3 * 8, "the handoffs to fill");
        run.RequestStop();
        sink.Open();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Stopped, result.Status);
        var read = result["endless"].In;
        Assert.True(read >= 24, $"read {read}");
        Assert.Equal(read, sink.Count);
        Assert.Equal(Enumerable.Range(0, (int)read).Select(x => (x + 1) * 2), sink.Items.Order());
        Assert.All(result.Stages, s => Assert.Equal(0, s.Dropped + s.Failed));
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RequestStop_SynchronousSource_StopsEnumeratingAndDrains(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("endless", EndlessSync())
            .Then("double", x => x * 2)
            .To("collect", sink)
            .Build();
        var run = pipeline.Start();
        await sink.WaitForCountAsync(100, "a hundred items");

        run.RequestStop();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Stopped, result.Status);
        Assert.Equal(Enumerable.Range(0, sink.Count).Select(x => x * 2), sink.Items);
        Assert.Equal(result["endless"].In, sink.Count);
        AssertAccounted(result);

        static IEnumerable<int> EndlessSync()
        {
            for (var i = 0; ; i++)
            {
                yield return i;
            }
        }
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_TokenCancelled_StopsGracefullyAndDrains(HandoffKind kind)
    {
        using var cts = new CancellationTokenSource();
        var received = 0;
        var pipeline = NewPipeline(kind)
            .From("endless", Endless)
            .Then("identity", x => x)
            .To("count", _ =>
            {
                if (Interlocked.Increment(ref received) == 100)
                {
                    cts.Cancel();
                }
            })
            .Build();

        var result = await pipeline.RunAsync(cts.Token).WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Stopped, result.Status);
        Assert.True(received >= 100);
        Assert.Equal(result["endless"].In, received);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopAsync_DrainCancelled_AbortsAndAccountsForEveryItem(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var source = new SourceProgress();
        var pipeline = NewPipeline(kind, capacity: 4)
            .From("endless", source.Endless)
            .Then("identity", x => x)
            .To("stuck", sink)
            .Build();
        sink.Close();
        var run = pipeline.Start();
        await source.WaitForTakenAsync(8, "the handoffs to fill");

        // Eight items taken can all be in the handoffs and the transform before the sink has its first: wait for that too.
        await sink.WaitForHeldAsync(1, "the sink to hold an item");
        using var expired = new CancellationTokenSource();
        await expired.CancelAsync();

        var result = await run.StopAsync(expired.Token).WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Aborted, result.Status);
        Assert.Equal(0, sink.Count);
        Assert.Equal(1, result["stuck"].Failed);
        Assert.True(result["stuck"].Dropped > 0);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_TransformThrows_FaultsStopsUpstreamAndDrainsDownstream(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var boom = new InvalidOperationException("boom");
        var pipeline = NewPipeline(kind)
            .From("endless", Endless)
            .Then("before", x => x)
            .Then("explode", x => x == 500 ? throw boom : x)
            .To("collect", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Same(boom, result.Exception);
        Assert.Equal("explode", result.FaultedStage);
        Assert.Equal(1, result["explode"].Failed);
        Assert.Equal(500, result["explode"].Out);
        Assert.Equal(Enumerable.Range(0, 500), sink.Items);
        Assert.Equal(0, result["collect"].Dropped);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_ParallelOrderedStageThrows_FaultsAndAccountsForEveryItem(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("endless", Endless)
            .Then("explode", x => x == 300 ? throw new InvalidOperationException("boom") : x, o => o.Parallelism = 4)
            .To("collect", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Equal(1, result["explode"].Failed);

        // What the workers finished arrives in order; what they had not started when the fault came is discarded, even if it
        // came before the failed item, and counted as dropped.
        var items = sink.Items.ToArray();
        Assert.DoesNotContain(300, items);
        Assert.Equal(items.Order(), items);
        Assert.Equal(items.Length, result["explode"].Out);
        Assert.True(items.Length >= 300 - 4 * 64, $"only {items.Length} items arrived");
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_SinkThrowsWithSkip_CountsFailedAndGoesOn(HandoffKind kind)
    {
        var written = new ConcurrentQueue<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(100, ct))
            .To("odd-only", x =>
            {
                if (x % 2 == 0)
                {
                    throw new FormatException("even");
                }

                written.Enqueue(x);
            }, o => o.OnError = StageErrorMode.Skip)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(50, result["odd-only"].Failed);
        Assert.Equal(50, result["odd-only"].Out);
        Assert.Equal(Enumerable.Range(0, 50).Select(x => x * 2 + 1), written);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Start_SinkStartHookThrows_FaultsBeforeTheSourceReads(HandoffKind kind)
    {
        var events = new ObservedQueue<string>();
        var pipeline = NewPipeline(kind)
            .From("source", new HookRecorder(events, "source"))
            .To("sink", new FailingStart())
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Equal("sink", result.FaultedStage);
        Assert.DoesNotContain("read:source", events);
        Assert.DoesNotContain("start:source", events);
        Assert.Equal(0, result["source"].In);
        AssertAccounted(result);
    }
}
