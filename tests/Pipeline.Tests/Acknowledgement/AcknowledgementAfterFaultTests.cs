using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;
using static Pipeline.Tests.Acknowledgement.AcknowledgementEngineTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Acknowledgement;

/// <summary>
/// A dead letter settles an item only when the item failed and the stage goes on past it (<c>OnError: DeadLetter</c>). Items given
/// up because the run stops — the item that faulted it, and everything discarded after — stay unacknowledged even when a dead-letter
/// store records them, so that an acknowledging source offers them again after a restart.
/// </summary>
public sealed class AcknowledgementAfterFaultTests
{
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task SinkFaults_WithADeadLetterStore_FinalAcknowledgementStopsBeforeTheFaultingItem(HandoffKind kind)
    {
        var letters = new ConcurrentQueue<DeadLetter>();
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(new QueueStore(letters)).BuildServiceProvider();
        var source = new PositionSource(200);
        var result = await Acknowledging(kind)
            .From("read", source)
            .Then("work", x => x)
            .To("store", x =>
            {
                if (x == 50)
                {
                    throw new InvalidOperationException("database down");
                }
            })
            .Build(services)
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        AssertAccounted(result);

        // The failed item and what was discarded after it are recorded as dead letters, and the source will offer them again.
        Assert.Contains(letters, letter => letter.Reason == StageRunner.FailedReason && (int)letter.Item! == 50);
        Assert.Equal(49, source.Highest);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task TransformFaults_WhileABatchIsFilling_NoDiscardedItemIsAcknowledged(HandoffKind kind)
    {
        var letters = new ConcurrentQueue<DeadLetter>();
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(new QueueStore(letters)).BuildServiceProvider();
        var source = new PositionSource(500);
        var sunk = new ConcurrentQueue<int>();
        var result = await Acknowledging(kind)
            .From("read", source)
            .Then("work", x => x == 300 ? throw new InvalidOperationException("bug") : x)
            .Batch("batch", 64, TimeSpan.FromSeconds(30))
            .To("store", batch =>
            {
                foreach (var x in batch)
                {
                    sunk.Enqueue(x);
                }
            })
            .Build(services)
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        AssertAccounted(result);
        Assert.NotEmpty(letters);

        // Everything up to the watermark was stored; nothing past it was acknowledged.
        Assert.True(source.Highest <= 299, $"acknowledged up to {source.Highest}");
        Assert.Equal(Enumerable.Range(1, (int)source.Highest), sunk.Order().Take((int)source.Highest));
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task ItemFails_OnErrorDeadLetter_IsSettledByItsDeadLetter_AndTheWatermarkPassesIt(HandoffKind kind)
    {
        var letters = new ConcurrentQueue<DeadLetter>();
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(new QueueStore(letters)).BuildServiceProvider();
        var source = new PositionSource(100);
        var result = await Acknowledging(kind)
            .From("read", source)
            .Then("work", x => x == 50 ? throw new FormatException("bad") : x, o => o.OnError = StageErrorMode.DeadLetter)
            .To("store", _ => { })
            .Build(services)
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Single(letters);
        Assert.Equal(100, source.Highest);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopWithinZero_NoTimeForTheFinalAcknowledgement_IsAbortedNotFaulted(HandoffKind kind)
    {
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = new PositionSource(100_000);
        var run = Acknowledging(kind)
            .From("read", source)
            .To("store", async (int x, CancellationToken _) =>
            {
                if (x == 10)
                {
                    stuck.TrySetResult();
                    await release.Task;
                }
            })
            .Build()
            .Start();
        await stuck.Task.WaitAsync(Bound);

        var result = await run.StopWithinAsync(TimeSpan.Zero).WaitAsync(Bound);
        release.TrySetResult();

        // The deadline left no time to record the last acknowledgement: the source resumes from the one before, no fault.
        Assert.Equal(PipelineStatus.Aborted, result.Status);
        Assert.Null(result.Exception);
        Assert.True(source.Highest <= 9, $"acknowledged up to {source.Highest}");
    }

    private sealed class QueueStore(ConcurrentQueue<DeadLetter> letters) : IDeadLetterStore
    {
        public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            letters.Enqueue(deadLetter);
            return default;
        }
    }
}
