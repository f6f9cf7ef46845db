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
        var time = new FakeTimeProvider();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holdsThree = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var name = $"batch-by-time-{kind}";
        var sink = new RecordingSink<IReadOnlyList<int>>();
        var pipeline = NewPipeline(kind, name: name)
            .From("held", ct => ThreeThenWait(release.Task, ct))
            .Batch("batch", 100, s_maxDelay)
            .To("collect", sink)
            .Build(timeProvider: time);

        // Signalled by this test's batch stage once its batch holds the three items (other tests' batch stages run alongside).
        BatchStageRunner<int>.FilledObserver = (stage, count) =>
        {
            if (stage.Lifecycle.PipelineName == name && count == 3)
            {
                holdsThree.TrySetResult();
            }
        };
        try
        {
            var run = pipeline.Start();
            await holdsThree.Task.WaitAsync(Bound);

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
        finally
        {
            BatchStageRunner<int>.FilledObserver = null;
        }
    }

    private static async IAsyncEnumerable<int> ThreeThenWait(Task release, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return 0;
        yield return 1;
        yield return 2;
        await release.WaitAsync(cancellationToken);
        yield return 3;
    }
}
