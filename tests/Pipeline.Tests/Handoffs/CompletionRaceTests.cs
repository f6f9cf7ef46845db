using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// <c>WaitToReadAsync</c> racing <c>TryComplete</c> on an empty handoff never answers <see langword="true"/>: an answer of
/// <see langword="true"/> promises an item that <c>TryRead</c> can take. The <c>Semaphore</c> kind's completion releases a
/// reserve of filled-slot permits to wake its waiters, which a reader must not take for an item.
/// </summary>
[Collection(nameof(HandoffConformanceCollection))]
public sealed class CompletionRaceTests : IDisposable
{
    public static TheoryData<HandoffKind, int> KindsAndCapacities => new()
    {
        { HandoffKind.Condition, 1 }, { HandoffKind.Condition, 64 },
        { HandoffKind.Semaphore, 1 }, { HandoffKind.Semaphore, 64 },
        { HandoffKind.Channel, 1 }, { HandoffKind.Channel, 64 },
    };

    public void Dispose() => HandoffCompletion.WaitToReadObserver = null;

    [Theory(Timeout = 30_000)]
    [InlineData(null)]
    [InlineData("failed")]
    public async Task Semaphore_WaitToReadAsync_CompletedAfterItSawTheHandoffOpen_AnswersClosed(string? failure)
    {
        var channel = (SemaphoreChannel<int>)Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = 4 });
        Exception? error = failure is null ? null : new InvalidOperationException(failure);
        int observed = 0;
        HandoffCompletion.WaitToReadObserver = state =>
        {
            if (ReferenceEquals(state, channel) && Interlocked.Increment(ref observed) == 1)
            {
                Assert.True(channel.Writer.TryComplete(error));
            }
        };

        ValueTask<bool> answer = channel.Reader.WaitToReadAsync();

        Assert.Equal(1, Volatile.Read(ref observed));
        if (error is null)
        {
            Assert.False(await answer.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }
        else
        {
            Assert.Same(error, await Assert.ThrowsAsync<InvalidOperationException>(() => answer.AsTask().WaitAsync(TimeSpan.FromSeconds(10))));
        }

        Assert.False(channel.Reader.TryRead(out _));
    }

    [Fact(Timeout = 30_000)]
    public async Task Semaphore_WaitToReadAsync_CompletedWithAnItemLeft_AnswersTrueForThatItem()
    {
        var channel = (SemaphoreChannel<int>)Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = 4 });
        Assert.True(channel.Writer.TryWrite(7));
        HandoffCompletion.WaitToReadObserver = state => channel.Writer.TryComplete();

        Assert.True(await channel.Reader.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(channel.Reader.TryRead(out int item));
        Assert.Equal(7, item);
        Assert.False(await channel.Reader.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>
    /// The same race left to the scheduler, on every kind: a completer thread and the test meet at a barrier each round, then
    /// each spins a different short while before completing or asking, so the two calls overlap at many offsets.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(KindsAndCapacities))]
    public async Task WaitToReadAsync_RacingTryCompleteOnAnEmptyHandoff_NeverAnswersTrue(HandoffKind kind, int capacity) =>
        Assert.Equal(0, await CountTrueAnswersAsync(kind, capacity, full: false, channel => channel.Reader.WaitToReadAsync()));

    /// <summary>Likewise for room: a full handoff completed while <c>WaitToWriteAsync</c> looks never answers that it has room.</summary>
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(KindsAndCapacities))]
    public async Task WaitToWriteAsync_RacingTryCompleteOnAFullHandoff_NeverAnswersTrue(HandoffKind kind, int capacity) =>
        Assert.Equal(0, await CountTrueAnswersAsync(kind, capacity, full: true, channel => channel.Writer.WaitToWriteAsync()));

    private static async Task<int> CountTrueAnswersAsync(HandoffKind kind, int capacity, bool full, Func<Channel<int>, ValueTask<bool>> ask)
    {
        const int Rounds = 20_000;
        var channels = new Channel<int>[Rounds];
        for (int round = 0; round < Rounds; round++)
        {
            channels[round] = Handoff.Create<int>(new HandoffOptions { Kind = kind, Capacity = capacity });
            for (int item = 0; full && item < capacity; item++)
            {
                Assert.True(channels[round].Writer.TryWrite(item));
            }
        }

        int started = 0;
        int completed = 0;
        var completer = new Thread(() =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                SpinUntil(ref started, round + 1);
                Thread.SpinWait(round % 64);
                channels[round].Writer.TryComplete();
                Volatile.Write(ref completed, round + 1);
            }
        })
        { IsBackground = true };
        completer.Start();

        var wrongAnswers = 0;
        for (int round = 0; round < Rounds; round++)
        {
            Volatile.Write(ref started, round + 1);
            Thread.SpinWait(round / 64 % 64);
            if (await ask(channels[round]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)))
            {
                wrongAnswers++;
            }

            SpinUntil(ref completed, round + 1);
        }

        return wrongAnswers;
    }

    private static void SpinUntil(ref int counter, int value)
    {
        var spinner = default(SpinWait);
        while (Volatile.Read(ref counter) < value)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }
}
