using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Handoffs;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Lifecycle;

/// <summary>Faults are told truthfully: nothing emitted past a fault, results always come, failed starts clean up.</summary>
public class FaultTruthTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task OrderedParallelStage_EarlierItemFaults_EmitsNothingAfterIt(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();

        // Item 1 fails only once the other worker has finished later items (it has moved on to item 4): they are done and waiting
        // behind item 1 when it fails.
        var laterItemsDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipeline = NewPipeline(kind)
            .From("src", Enumerable.Range(1, 6))
            .Then<int>("work", async (x, ct) =>
            {
                if (x == 1)
                {
                    await laterItemsDone.Task.WaitAsync(ct);
                    throw new InvalidOperationException("item 1");
                }

                if (x == 4)
                {
                    laterItemsDone.TrySetResult();
                }

                return x;
            }, o =>
            {
                o.Parallelism = 2;
                o.Ordered = true;
                o.OnError = StageErrorMode.Stop;
            })
            .To("sink", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Empty(sink.Items);
        Assert.Equal(1, result["work"].Failed);
        Assert.Equal(5, result["work"].Dropped);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task OrderedParallelStage_ItemSkipped_EmitsTheOthersInOrder(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("src", Enumerable.Range(1, 200))
            .Then<int>("work", x => x % 7 == 0 ? throw new FormatException("seven") : x, o =>
            {
                o.Parallelism = 3;
                o.OnError = StageErrorMode.Skip;
            })
            .To("sink", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(1, 200).Where(x => x % 7 != 0), sink.Items);
        Assert.Equal(200 / 7, result.Skipped);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task Completion_OwnedStageDisposeThrows_CompletesWithTheErrorInTheResult()
    {
        using var services = new ServiceCollection().BuildServiceProvider();
        var pipeline = new PipelineBuilder("dispose")
            .From("src", Enumerable.Range(0, 10))
            .To<ThrowingDisposeSink>("sink", configure: null)
            .Build(services);

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        var error = Assert.Single(result.DisposalErrors);
        Assert.Equal("dispose failed", error.Message);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task OrderedParallelStage_LaterItemFaultsFirst_StillEmitsTheItemsBeforeIt(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        PipelineRun? run = null;
        var faulted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bothStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        var pipeline = NewPipeline(kind)
            .From("src", Enumerable.Range(1, 9))
            .Then<int>("work", async (x, ct) =>
            {
                if (x == 3)
                {
                    await bothStarted.Task;
                    throw new InvalidOperationException("item 3");
                }

                if (x < 3)
                {
                    // Items 1 and 2 are under way when item 3 fails, and finish only after its fault has stopped the pipeline.
                    if (Interlocked.Increment(ref started) == 2)
                    {
                        bothStarted.TrySetResult();
                    }

                    await faulted.Task;
                }

                return x;
            }, o =>
            {
                o.Parallelism = 3;
                o.Ordered = true;
                o.OnError = StageErrorMode.Stop;
            })
            .To("sink", sink)
            .Build();

        run = pipeline.Start();
        await run.WaitStopRequestedAsync().AsTask().WaitAsync(Bound); // item 3's fault stops the pipeline
        faulted.TrySetResult();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.True(sink.Items.SequenceEqual([1, 2]), $"sunk [{string.Join(", ", sink.Items)}]: {result}");
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task Start_StageFactoryThrowsPartWay_DisposesWhatWasBuilt()
    {
        DisposeRecordingSink.Disposed = 0;
        using var services = new ServiceCollection().BuildServiceProvider();
        var pipeline = new PipelineBuilder("half-built")
            .From("src", Enumerable.Range(0, 10))
            .Then<ThrowingTransform, int>("broken", configure: null)
            .To<DisposeRecordingSink>("sink", configure: null)
            .Build(services);

        var error = Assert.Throws<InvalidOperationException>(() => pipeline.Start());

        Assert.Contains("cannot be built", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, DisposeRecordingSink.Disposed);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public async Task DeadLetterStore_StuckAtTheDeadline_SeesItsTokenCancelledAndTheItemIsCountedAbandoned()
    {
        var store = new BlockingStore();

        var result = await StopWithSinkStuckAsync(store, HandoffKind.Channel, capacity: 2, withTransform: false, TimeSpan.FromMilliseconds(400));

        Assert.Equal(PipelineStatus.Aborted, result.Status);
        Assert.True(store.SawCancellation, "the store's token was never cancelled");
        Assert.True(result.Abandoned > 0, result.ToString());
        Assert.True(result.IsAccounted, result.ToString());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task DeadLetterStore_ThrowsWhileStagesGiveUpAtTheDeadline_EveryStageStillCompletesAndTheItemsAreCountedAbandoned(HandoffKind kind)
    {
        var store = new ThrowingStore();

        var result = await StopWithSinkStuckAsync(store, kind, capacity: 8, withTransform: true, TimeSpan.FromMilliseconds(300));

        // A store that cannot take what the run gives up is a fault of the run, named in its result.
        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Contains("the dead-letter disk is gone", result.Exception?.ToString() ?? string.Empty, StringComparison.Ordinal);
        Assert.True(store.Calls > 0, "nothing was handed to the store");
        Assert.Equal(0, result.DeadLettered);
        Assert.True(result.Abandoned > 0, result.ToString());
        Assert.True(result.IsAccounted, $"{string.Join("; ", result.DescribeAccountingErrors())} in {result}");
    }

    [Fact(Timeout = 30_000)]
    public async Task DeadLetterStoreThrows_ItemFailedUnderDeadLetter_IsNotLoggedAsDeadLettered()
    {
        var logged = new ObservedQueue<string>();
        using var services = new ServiceCollection()
            .AddSingleton<IDeadLetterStore>(new ThrowingStore())
            .AddLogging(logging => logging.AddProvider(new ListLoggerProvider(logged)))
            .BuildServiceProvider();
        var run = NewPipeline(HandoffKind.Channel)
            .From("src", Enumerable.Range(0, 10))
            .Then("work", x => x == 3 ? throw new FormatException("bad record 3") : x, o => o.OnError = StageErrorMode.DeadLetter)
            .To("sink", _ => { })
            .Build(services)
            .Start();

        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Equal(0, result.DeadLettered);
        Assert.DoesNotContain(logged, line => line.Contains("was dead-lettered", StringComparison.Ordinal));
        Assert.Contains(logged, line => line.Contains("not dead-lettered: the dead-letter store did not take it", StringComparison.Ordinal) && line.Contains("bad record 3", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task Build_SamePipelineTwiceOnOneProvider_DoesNotDoubleItsInstruments()
    {
        var pipelineName = $"twice-{Guid.NewGuid():N}";
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var builder = new PipelineBuilder(pipelineName);
        builder.From("src", Enumerable.Range(0, 10)).To("sink", _ => { });
        var published = new ConcurrentBag<Instrument>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Tags?.Contains(new("pipeline.name", pipelineName)) == true)
            {
                published.Add(instrument);
            }
        };
        listener.Start();

        await builder.Build(services).RunAsync().WaitAsync(Bound);
        await builder.Build(services).RunAsync().WaitAsync(Bound);

        Assert.Equal(1, published.Count(instrument => instrument.Name == "pipeline.items.ended"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Result_StoppedBeforeTheSourceEnded_SaysHowManyItemsWereReadAndThatItIsPartial()
    {
        var logged = new ObservedQueue<string>();
        using var services = new ServiceCollection().AddLogging(logging => logging.AddProvider(new ListLoggerProvider(logged))).BuildServiceProvider();
        var source = new SourceProgress();
        var run = NewPipeline(HandoffKind.Channel).From("src", source.Endless).To("sink", _ => { }).Build(services).Start();
        await source.WaitForTakenAsync(101, "items to flow");

        var result = await run.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Stopped, result.Status);
        Assert.True(result.IsPartial);
        Assert.Contains($"{result.ItemsRead} items read; the result is partial", result.ToString(), StringComparison.Ordinal);
        Assert.Contains(logged, line => line.Contains($"stopped before its source ended: {result.ItemsRead} items read; the result is partial", StringComparison.Ordinal));
        AssertAccounted(result);
    }

    internal sealed class ThrowingDisposeSink : ISink<int>, IAsyncDisposable
    {
        public ValueTask WriteAsync(int item, CancellationToken cancellationToken) => default;

        public ValueTask DisposeAsync() => throw new InvalidOperationException("dispose failed");
    }

    internal sealed class DisposeRecordingSink : ISink<int>, IDisposable
    {
        public static int Disposed;

        public ValueTask WriteAsync(int item, CancellationToken cancellationToken) => default;

        public void Dispose() => Interlocked.Increment(ref Disposed);
    }

    internal sealed class ThrowingTransform : ITransform<int, int>
    {
        public ThrowingTransform() => throw new InvalidOperationException("this transform cannot be built");

        public ValueTask<int> TransformAsync(int item, CancellationToken cancellationToken) => new(item);
    }

    /// <summary>
    /// Runs an endless source (through a pass-through transform if <paramref name="withTransform"/>) into a sink stuck on its first
    /// item, with <paramref name="store"/> as the dead-letter store, and stops it within <paramref name="deadline"/>; returns the
    /// result once the run has ended (the sink is released after the stop, and the run's completion awaited).
    /// </summary>
    private static async Task<PipelineResult> StopWithSinkStuckAsync(IDeadLetterStore store, HandoffKind kind, int capacity, bool withTransform, TimeSpan deadline)
    {
        using var services = new ServiceCollection().AddSingleton(store).BuildServiceProvider();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = NewPipeline(kind, capacity).From("src", Endless);
        var stage = withTransform ? source.Then("work", x => x) : source;
        var run = stage
            .To("sink", async (int x, CancellationToken _) =>
            {
                busy.TrySetResult();
                await release.Task;
            })
            .Build(services)
            .Start();
        await busy.Task.WaitAsync(Bound);

        var result = await run.StopWithinAsync(deadline).WaitAsync(Bound);
        release.TrySetResult();
        await run.Completion.WaitAsync(Bound);
        return result;
    }

    private sealed class ThrowingStore : IDeadLetterStore
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            throw new IOException("the dead-letter disk is gone");
        }
    }

    private sealed class BlockingStore : IDeadLetterStore
    {
        public bool SawCancellation { get; private set; }

        public async ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                SawCancellation = true;
                throw;
            }
        }
    }
}
