using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Stages;

public class BatchStageTests
{
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromSeconds(5);

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Batch_SizeReached_EmitsFullBatchesWithoutTimePassing(HandoffKind kind)
    {
        var time = new FakeTimeProvider();
        var sink = new RecordingSink<IReadOnlyList<int>>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(10, ct))
            .Batch("batch", 4, s_maxDelay)
            .To("collect", sink)
            .Build(timeProvider: time);

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        // Two full batches by size; the last, partial one is flushed when the input completes. Fake time never moved.
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], sink.Items.Select(b => b.ToArray()));
        Assert.Equal(10, result["batch"].Out);
        Assert.Equal(3, result["batch"].Produced);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Batch_MaxDelayPasses_EmitsPartialBatch(HandoffKind kind)
    {
        var time = new TimerSignalingTimeProvider();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handedOver = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sink = new RecordingSink<IReadOnlyList<int>>();
        var pipeline = NewPipeline(kind)
            .From("held", ct => ThreeThenWait(handedOver, release.Task, ct))
            .Batch("batch", 100, s_maxDelay)
            .To("collect", sink)
            .Build(timeProvider: time);
        var run = pipeline.Start();

        // The batch's deadline starts with its first item, and the three items are in the batch or in its input handoff: at the
        // deadline the batch takes what its input holds before it emits, so it emits all three.
        Assert.True(await time.TimerCreated.WaitAsync(Bound), "the batch's deadline");
        await handedOver.Task.WaitAsync(Bound);

        time.Advance(s_maxDelay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, sink.Count);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await sink.WaitForCountAsync(1, "the batch to be emitted by time");

        Assert.Equal([0, 1, 2], sink.Items.Single());
        release.SetResult();
        var result = await run.Completion.WaitAsync(Bound);
        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal([[0, 1, 2], [3]], sink.Items.Select(b => b.ToArray()));
        AssertAccounted(result);
    }

    /// <summary>Yields 0, 1 and 2, then (the pipeline having taken all three) sets <paramref name="handedOver"/> and waits for <paramref name="release"/>.</summary>
    private static async IAsyncEnumerable<int> ThreeThenWait(TaskCompletionSource handedOver, Task release, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return 0;
        yield return 1;
        yield return 2;
        handedOver.TrySetResult();
        await release.WaitAsync(cancellationToken);
        yield return 3;
    }
}
