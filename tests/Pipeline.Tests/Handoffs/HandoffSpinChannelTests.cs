using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// What a custom handoff does when the other side acts while a reader or writer spins before parking: each test acts
/// from <see cref="HandoffSpin.SpinObserver"/>, as the spin begins, so it is ordered without racing the spin's 2 µs.
/// </summary>
/// <remarks>A machine with one core never spins (<see cref="HandoffSpinTests"/>); these tests need two.</remarks>
[Collection(nameof(HandoffConformanceCollection))]
public sealed class HandoffSpinChannelTests : IDisposable
{
    private static readonly bool CanSpin = Environment.ProcessorCount > 1;

    public static TheoryData<HandoffKind> CustomKinds => [HandoffKind.Condition, HandoffKind.Semaphore];

    public void Dispose() => HandoffSpin.SpinObserver = null;

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(CustomKinds))]
    public async Task WriteAsync_CompletedDuringItsSpin_ThrowsAndDeliversNothing(HandoffKind kind)
    {
        Channel<int> channel = Create(kind, capacity: 1);
        Assert.True(channel.Writer.TryWrite(1));
        ObserveSpins(channel, () => channel.Writer.TryComplete());

        ValueTask write = channel.Writer.WriteAsync(2);

        await Assert.ThrowsAsync<ChannelClosedException>(() => write.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(CanSpin ? 1 : 0, Volatile.Read(ref s_spins));
        Assert.True(channel.Reader.TryRead(out int only));
        Assert.Equal(1, only);
        Assert.False(await channel.Reader.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(CustomKinds))]
    public async Task WriteAsync_ReaderTakesDuringItsSpin_WritesWithoutParking(HandoffKind kind)
    {
        if (!CanSpin)
        {
            return;
        }

        Channel<int> channel = Create(kind, capacity: 1);
        Assert.True(channel.Writer.TryWrite(1));
        int taken = 0;
        ObserveSpins(channel, () => Assert.True(channel.Reader.TryRead(out taken)));

        ValueTask write = channel.Writer.WriteAsync(2);

        Assert.True(write.IsCompletedSuccessfully, "The write parked although a slot was freed while it spun.");
        await write;
        Assert.Equal(1, taken);
        Assert.True(channel.Reader.TryRead(out int second));
        Assert.Equal(2, second);
        Assert.Equal(1, Volatile.Read(ref s_spins));
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(CustomKinds))]
    public async Task WaitToReadAsync_ItemWrittenDuringItsSpin_AnswersTrueAtOnceAndTryReadTakesIt(HandoffKind kind)
    {
        if (!CanSpin)
        {
            return;
        }

        Channel<int> channel = Create(kind, capacity: 4);
        ObserveSpins(channel, () => Assert.True(channel.Writer.TryWrite(7)));

        ValueTask<bool> wait = channel.Reader.WaitToReadAsync();

        Assert.True(wait.IsCompletedSuccessfully, "The reader parked although an item came while it spun.");
        Assert.True(await wait);
        Assert.True(channel.Reader.TryRead(out int item));
        Assert.Equal(7, item);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(CustomKinds))]
    public async Task ReadAsync_ItemWrittenDuringItsSpin_ReturnsItAtOnce(HandoffKind kind)
    {
        if (!CanSpin)
        {
            return;
        }

        Channel<int> channel = Create(kind, capacity: 4);
        ObserveSpins(channel, () => Assert.True(channel.Writer.TryWrite(9)));

        ValueTask<int> read = channel.Reader.ReadAsync();

        Assert.True(read.IsCompletedSuccessfully, "The reader parked although an item came while it spun.");
        Assert.Equal(9, await read);
        Assert.Equal(0, channel.Reader.Count);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(CustomKinds))]
    public async Task WaitToReadAsync_CompletedDuringItsSpin_AnswersFalse(HandoffKind kind)
    {
        Channel<int> channel = Create(kind, capacity: 4);
        ObserveSpins(channel, () => channel.Writer.Complete());

        ValueTask<bool> wait = channel.Reader.WaitToReadAsync();
        if (!CanSpin)
        {
            channel.Writer.Complete();
        }

        Assert.False(await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(CanSpin ? 1 : 0, Volatile.Read(ref s_spins));
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(CustomKinds))]
    public async Task WaitToReadAsync_AnotherReaderParked_ParksWithoutSpinning(HandoffKind kind)
    {
        Channel<int> channel = Create(kind, capacity: 4);
        ObserveSpins(channel, () => { });
        ValueTask<int> parked = channel.Reader.ReadAsync();
        Assert.False(parked.IsCompleted);
        int spinsOfTheFirst = Volatile.Read(ref s_spins);

        ValueTask<bool> second = channel.Reader.WaitToReadAsync();

        Assert.False(second.IsCompleted);
        Assert.Equal(spinsOfTheFirst, Volatile.Read(ref s_spins));
        Assert.True(channel.Writer.TryWrite(5));
        Assert.Equal(5, await parked.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        channel.Writer.Complete();

        // Woken by the item (which the first reader may already have taken: true) or by the completion (false).
        await second.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(channel.Reader.TryRead(out _));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(HandoffKind.Condition, 1024, true)]
    [InlineData(HandoffKind.Semaphore, 16, true)]
    [InlineData(HandoffKind.Semaphore, 17, false)]
    public async Task WaitToReadAsync_OnAnEmptyRing_SpinsOnlyWhereTheKindAndCapacityDo(HandoffKind kind, int capacity, bool spins)
    {
        Channel<int> channel = Create(kind, capacity);
        ObserveSpins(channel, () => { });

        ValueTask<bool> wait = channel.Reader.WaitToReadAsync();

        Assert.Equal(spins && CanSpin ? 1 : 0, Volatile.Read(ref s_spins));
        Assert.False(wait.IsCompleted);
        channel.Writer.Complete();
        Assert.False(await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static int s_spins;

    private static Channel<int> Create(HandoffKind kind, int capacity) =>
        Handoff.Create<int>(new HandoffOptions { Kind = kind, Capacity = capacity });

    /// <summary>Counts the spins on <paramref name="channel"/> (other tests' handoffs may spin meanwhile) and runs <paramref name="during"/> in each.</summary>
    private static void ObserveSpins(Channel<int> channel, Action during)
    {
        Volatile.Write(ref s_spins, 0);
        HandoffSpin.SpinObserver = state =>
        {
            if (ReferenceEquals(state, channel))
            {
                Interlocked.Increment(ref s_spins);
                during();
            }
        };
    }
}
