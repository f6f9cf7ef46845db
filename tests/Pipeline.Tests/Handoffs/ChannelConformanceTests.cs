using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// The contract every handoff kind fulfils, run once per kind by the derived classes. The cases follow the public
/// dotnet/runtime channel tests (ChannelTestBase, BoundedChannelTests) and add the handoff's own guarantees: reported
/// drops, exact cancellation, and exactly-once delivery under load.
/// </summary>
public abstract partial class ChannelConformanceTests
{
    protected static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    protected abstract HandoffKind Kind { get; }

    protected Channel<T> CreateChannel<T>(int capacity, BoundedChannelFullMode mode = BoundedChannelFullMode.Wait, Action<T>? itemDropped = null) =>
        Handoff.Create(new HandoffOptions { Kind = Kind, Capacity = capacity, FullMode = mode }, itemDropped);

    protected Channel<int> CreateChannel(int capacity = 4, BoundedChannelFullMode mode = BoundedChannelFullMode.Wait) =>
        CreateChannel<int>(capacity, mode);

    // ---- shape ----

    [Fact]
    public void Create_AnyKind_ImplementsIHandoffWithItsSettings()
    {
        Channel<int> channel = CreateChannel(7, BoundedChannelFullMode.DropOldest);

        IHandoff handoff = Assert.IsAssignableFrom<IHandoff>(channel);
        Assert.Equal(Kind, handoff.Kind);
        Assert.Equal(7, handoff.Capacity);
        Assert.Equal(BoundedChannelFullMode.DropOldest, handoff.FullMode);
        Assert.Equal(0, handoff.Dropped);
    }

    [Fact]
    public void Cast_ReaderAndWriter_AreTheChannelsOwn()
    {
        Channel<int> channel = CreateChannel();
        ChannelReader<int> reader = channel;
        ChannelWriter<int> writer = channel;

        Assert.Same(reader, channel.Reader);
        Assert.Same(writer, channel.Writer);
    }

    [Fact]
    public void CanCountAndCanPeek_Always_True()
    {
        Channel<int> channel = CreateChannel();

        Assert.True(channel.Reader.CanCount);
        Assert.True(channel.Reader.CanPeek);
    }

    // ---- completion ----

    [Fact]
    public void Completion_BeforeAndAfterComplete_SameTaskCompletedOnlyAfter()
    {
        Channel<int> channel = CreateChannel();
        Task completion = channel.Reader.Completion;
        Assert.False(completion.IsCompleted);
        Assert.Same(completion, channel.Reader.Completion);

        channel.Writer.Complete();

        Assert.Same(completion, channel.Reader.Completion);
        Assert.Equal(TaskStatus.RanToCompletion, completion.Status);
    }

    [Fact]
    public void TryComplete_Twice_ReturnsTrueThenFalse()
    {
        Channel<int> channel = CreateChannel();

        Assert.True(channel.Writer.TryComplete());
        Assert.False(channel.Writer.TryComplete());
        Assert.False(channel.Writer.TryComplete(new InvalidOperationException()));
    }

    [Fact]
    public void Complete_Twice_ThrowsChannelClosedException()
    {
        Channel<int> channel = CreateChannel();
        channel.Writer.Complete();

        Assert.Throws<ChannelClosedException>(() => channel.Writer.Complete());
    }

    [Fact]
    public async Task TryComplete_WithItems_CompletionWaitsUntilDrained()
    {
        Channel<int> channel = CreateChannel();
        Assert.True(channel.Writer.TryWrite(1));
        Assert.True(channel.Writer.TryWrite(2));

        channel.Writer.Complete();

        Assert.False(channel.Reader.Completion.IsCompleted);
        Assert.True(channel.Reader.TryRead(out int first));
        Assert.Equal(1, first);
        Assert.False(channel.Reader.Completion.IsCompleted);
        Assert.True(channel.Reader.TryRead(out int second));
        Assert.Equal(2, second);
        await channel.Reader.Completion.WaitAsync(Bound);
    }

    [Fact]
    public async Task TryComplete_WithException_CompletionFaultsWithItAfterDrain()
    {
        Channel<int> channel = CreateChannel();
        var error = new FormatException("bad record");
        Assert.True(channel.Writer.TryWrite(1));

        Assert.True(channel.Writer.TryComplete(error));

        Assert.False(channel.Reader.Completion.IsCompleted);
        Assert.Equal(1, await channel.Reader.ReadAsync());
        FormatException thrown = await Assert.ThrowsAsync<FormatException>(() => channel.Reader.Completion.WaitAsync(Bound));
        Assert.Same(error, thrown);
    }

    [Fact]
    public async Task TryComplete_WithOperationCanceledException_CompletionIsCanceled()
    {
        Channel<int> channel = CreateChannel();
        using var source = new CancellationTokenSource();
        source.Cancel();

        channel.Writer.Complete(new OperationCanceledException(source.Token));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Reader.Completion.WaitAsync(Bound));
        Assert.True(channel.Reader.Completion.IsCanceled);
    }

    [Fact]
    public async Task WriteAsync_AfterComplete_ThrowsChannelClosedException()
    {
        Channel<int> channel = CreateChannel();
        channel.Writer.Complete();

        await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Writer.WriteAsync(1).AsTask());
        Assert.False(channel.Writer.TryWrite(1));
        Assert.Equal(0, channel.Reader.Count);
    }

    [Fact]
    public async Task WriteAsync_AfterCompleteWithException_ThrowsChannelClosedWithInner()
    {
        Channel<int> channel = CreateChannel();
        var error = new FormatException();
        channel.Writer.Complete(error);

        ChannelClosedException closed = await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Writer.WriteAsync(1).AsTask());
        Assert.Same(error, closed.InnerException);
    }

    [Fact]
    public async Task WaitToWriteAsync_AfterComplete_ReturnsFalse()
    {
        Channel<int> channel = CreateChannel();
        channel.Writer.Complete();

        Assert.False(await channel.Writer.WaitToWriteAsync());
    }

    [Fact]
    public async Task WaitToWriteAsync_AfterCompleteWithException_ThrowsOriginalException()
    {
        Channel<int> channel = CreateChannel();
        var error = new FormatException();
        channel.Writer.Complete(error);

        FormatException thrown = await Assert.ThrowsAsync<FormatException>(() => channel.Writer.WaitToWriteAsync().AsTask());
        Assert.Same(error, thrown);
    }

    [Fact]
    public async Task ReadAsync_CompletedAndDrained_ThrowsChannelClosedException()
    {
        Channel<int> channel = CreateChannel();
        channel.Writer.Complete();

        await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Reader.ReadAsync().AsTask());
        Assert.False(channel.Reader.TryRead(out _));
    }

    [Fact]
    public async Task ReadAsync_CompletedWithException_ThrowsChannelClosedWithInner()
    {
        Channel<int> channel = CreateChannel();
        var error = new FormatException();
        channel.Writer.Complete(error);

        ChannelClosedException closed = await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Reader.ReadAsync().AsTask());
        Assert.Same(error, closed.InnerException);
    }

    [Fact]
    public async Task ReadAsync_CompletedWithItems_ReadsThemThenThrows()
    {
        Channel<int> channel = CreateChannel();
        await channel.Writer.WriteAsync(1);
        await channel.Writer.WriteAsync(2);
        channel.Writer.Complete();

        Assert.Equal(1, await channel.Reader.ReadAsync());
        Assert.Equal(2, await channel.Reader.ReadAsync());
        await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Reader.ReadAsync().AsTask());
    }

    [Fact]
    public async Task WaitToReadAsync_AfterComplete_ReturnsFalse()
    {
        Channel<int> channel = CreateChannel();
        channel.Writer.Complete();

        Assert.False(await channel.Reader.WaitToReadAsync());
    }

    [Fact]
    public async Task WaitToReadAsync_AfterCompleteWithException_ThrowsOriginalException()
    {
        Channel<int> channel = CreateChannel();
        var error = new FormatException();
        channel.Writer.Complete(error);

        FormatException thrown = await Assert.ThrowsAsync<FormatException>(() => channel.Reader.WaitToReadAsync().AsTask());
        Assert.Same(error, thrown);
    }

    [Fact]
    public async Task WaitToReadAsync_CompletedWithItems_ReturnsTrueUntilDrained()
    {
        Channel<int> channel = CreateChannel();
        await channel.Writer.WriteAsync(1);
        channel.Writer.Complete();

        Assert.True(await channel.Reader.WaitToReadAsync());
        Assert.True(channel.Reader.TryRead(out _));
        Assert.False(await channel.Reader.WaitToReadAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task Complete_WithWaitingReaders_WakesEveryOne()
    {
        Channel<int> channel = CreateChannel();
        Task<int>[] reads = [channel.Reader.ReadAsync().AsTask(), channel.Reader.ReadAsync().AsTask(), channel.Reader.ReadAsync().AsTask()];
        Task<bool>[] waits = [channel.Reader.WaitToReadAsync().AsTask(), channel.Reader.WaitToReadAsync().AsTask()];
        Assert.All(reads, read => Assert.False(read.IsCompleted));
        Assert.All(waits, wait => Assert.False(wait.IsCompleted));

        channel.Writer.Complete();

        foreach (Task<int> read in reads)
        {
            await Assert.ThrowsAsync<ChannelClosedException>(() => read.WaitAsync(Bound));
        }

        foreach (Task<bool> wait in waits)
        {
            Assert.False(await wait.WaitAsync(Bound));
        }

        await channel.Reader.Completion.WaitAsync(Bound);
    }

    [Fact(Timeout = 30_000)]
    public async Task Complete_WithWaitingWriters_WakesEveryOneWithoutDelivering()
    {
        Channel<int> channel = CreateChannel(1);
        Assert.True(channel.Writer.TryWrite(0));
        Task[] writes = [channel.Writer.WriteAsync(1).AsTask(), channel.Writer.WriteAsync(2).AsTask()];
        ValueTask<bool> wait = channel.Writer.WaitToWriteAsync();
        Assert.All(writes, write => Assert.False(write.IsCompleted));
        Assert.False(wait.IsCompleted);

        channel.Writer.Complete();

        foreach (Task write in writes)
        {
            await Assert.ThrowsAsync<ChannelClosedException>(() => write.WaitAsync(Bound));
        }

        Assert.False(await wait.AsTask().WaitAsync(Bound));
        Assert.Equal(0, await channel.Reader.ReadAsync());
        Assert.False(channel.Reader.TryRead(out _));
        await channel.Reader.Completion.WaitAsync(Bound);
    }

    // ---- reading and writing ----

    [Fact]
    public void TryWrite_UpToCapacity_SucceedsThenFailsWhenFull()
    {
        Channel<int> channel = CreateChannel(3);

        Assert.True(channel.Writer.TryWrite(1));
        Assert.True(channel.Writer.TryWrite(2));
        Assert.True(channel.Writer.TryWrite(3));
        Assert.False(channel.Writer.TryWrite(4));
        Assert.Equal(3, channel.Reader.Count);
    }

    [Fact]
    public void TryRead_Empty_ReturnsFalse()
    {
        Channel<int> channel = CreateChannel();

        Assert.False(channel.Reader.TryRead(out int item));
        Assert.Equal(0, item);
    }

    [Fact]
    public void TryReadTryWrite_ManyItems_FirstInFirstOut()
    {
        Channel<int> channel = CreateChannel(5);
        for (int round = 0; round < 10; round++)
        {
            for (int i = 0; i < 5; i++)
            {
                Assert.True(channel.Writer.TryWrite((round * 5) + i));
            }

            for (int i = 0; i < 5; i++)
            {
                Assert.True(channel.Reader.TryRead(out int item));
                Assert.Equal((round * 5) + i, item);
            }
        }
    }

    [Fact]
    public void Count_WritesAndReads_TracksItems()
    {
        Channel<int> channel = CreateChannel(3);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, channel.Reader.Count);
            Assert.True(channel.Writer.TryWrite(i));
        }

        for (int i = 3; i > 0; i--)
        {
            Assert.Equal(i, channel.Reader.Count);
            Assert.True(channel.Reader.TryRead(out _));
        }

        Assert.Equal(0, channel.Reader.Count);
    }

    [Fact]
    public void TryPeek_WithItems_ReturnsOldestWithoutTakingIt()
    {
        Channel<string> channel = CreateChannel<string>(4);
        Assert.False(channel.Reader.TryPeek(out _));
        Assert.True(channel.Writer.TryWrite("a"));
        Assert.True(channel.Writer.TryWrite("b"));

        Assert.True(channel.Reader.TryPeek(out string? peeked));
        Assert.Equal("a", peeked);
        Assert.Equal(2, channel.Reader.Count);
        Assert.True(channel.Reader.TryRead(out string? read));
        Assert.Equal("a", read);
    }

    [Fact]
    public async Task WriteAsync_WithRoom_CompletesSynchronously()
    {
        Channel<int> channel = CreateChannel();

        ValueTask write = channel.Writer.WriteAsync(1);

        Assert.True(write.IsCompletedSuccessfully);
        await write;
        Assert.Equal(1, channel.Reader.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_WhenFull_CompletesOnceAnItemIsRead()
    {
        Channel<int> channel = CreateChannel(1);
        await channel.Writer.WriteAsync(1);

        ValueTask write = channel.Writer.WriteAsync(2);
        Assert.False(write.IsCompleted);
        Assert.True(channel.Reader.TryRead(out int first));

        await write.AsTask().WaitAsync(Bound);
        Assert.Equal(1, first);
        Assert.Equal(2, await channel.Reader.ReadAsync());
    }

    [Fact]
    public async Task ReadAsync_WithItem_CompletesSynchronously()
    {
        Channel<int> channel = CreateChannel();
        Assert.True(channel.Writer.TryWrite(5));

        ValueTask<int> read = channel.Reader.ReadAsync();

        Assert.True(read.IsCompletedSuccessfully);
        Assert.Equal(5, await read);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_WhenEmpty_CompletesOnceAnItemIsWritten()
    {
        Channel<int> channel = CreateChannel();

        ValueTask<int> read = channel.Reader.ReadAsync();
        Assert.False(read.IsCompleted);
        Assert.True(channel.Writer.TryWrite(42));

        Assert.Equal(42, await read.AsTask().WaitAsync(Bound));
        Assert.Equal(0, channel.Reader.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_ManyWaitingReaders_EachGetsOneItem()
    {
        Channel<int> channel = CreateChannel(10);
        Task<int>[] reads = Enumerable.Range(0, 5).Select(_ => channel.Reader.ReadAsync().AsTask()).ToArray();
        Assert.All(reads, read => Assert.False(read.IsCompleted));

        for (int i = 0; i < 5; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        int[] values = await Task.WhenAll(reads).WaitAsync(Bound);
        Assert.Equal(Enumerable.Range(0, 5), values.Order());
    }

    [Fact]
    public async Task WaitToReadAsync_DataAvailableBefore_CompletesSynchronously()
    {
        Channel<int> channel = CreateChannel();
        Assert.True(channel.Writer.TryWrite(1));

        ValueTask<bool> wait = channel.Reader.WaitToReadAsync();

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.True(await wait);
        Assert.Equal(1, channel.Reader.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitToReadAsync_DataAvailableAfter_CompletesWithoutTakingIt()
    {
        Channel<int> channel = CreateChannel();

        ValueTask<bool> wait = channel.Reader.WaitToReadAsync();
        Assert.False(wait.IsCompleted);
        Assert.True(channel.Writer.TryWrite(7));

        Assert.True(await wait.AsTask().WaitAsync(Bound));
        Assert.True(channel.Reader.TryRead(out int item));
        Assert.Equal(7, item);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitToReadAsync_WaiterAheadOfReader_ReaderStillGetsTheItem()
    {
        Channel<int> channel = CreateChannel();
        Task<bool> wait = channel.Reader.WaitToReadAsync().AsTask();
        ValueTask<int> read = channel.Reader.ReadAsync();

        Assert.True(channel.Writer.TryWrite(9));

        Assert.Equal(9, await read.AsTask().WaitAsync(Bound));
        channel.Writer.Complete();
        await wait.WaitAsync(Bound);
    }

    [Fact]
    public async Task WaitToWriteAsync_WithRoom_CompletesSynchronouslyTrue()
    {
        Channel<int> channel = CreateChannel();

        ValueTask<bool> wait = channel.Writer.WaitToWriteAsync();

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.True(await wait);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitToWriteAsync_WhenFull_CompletesOnceThereIsRoom()
    {
        Channel<int> channel = CreateChannel(1);
        Assert.True(channel.Writer.TryWrite(1));

        ValueTask<bool> wait = channel.Writer.WaitToWriteAsync();
        Assert.False(wait.IsCompleted);
        Assert.True(channel.Reader.TryRead(out _));

        Assert.True(await wait.AsTask().WaitAsync(Bound));
        Assert.True(channel.Writer.TryWrite(2));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAllAsync_ItemsThenComplete_YieldsAllInOrder()
    {
        Channel<int> channel = CreateChannel(4);
        Task producer = Task.Run(async () =>
        {
            for (int i = 0; i < 100; i++)
            {
                await channel.Writer.WriteAsync(i);
            }

            channel.Writer.Complete();
        });

        var read = new List<int>();
        await foreach (int item in channel.Reader.ReadAllAsync())
        {
            read.Add(item);
        }

        await producer.WaitAsync(Bound);
        Assert.Equal(Enumerable.Range(0, 100), read);
        await channel.Reader.Completion.WaitAsync(Bound);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAllAsync_CompletedWithException_ThrowsItAfterTheItems()
    {
        Channel<int> channel = CreateChannel(4);
        var error = new FormatException();
        Assert.True(channel.Writer.TryWrite(1));
        channel.Writer.Complete(error);

        var read = new List<int>();
        FormatException thrown = await Assert.ThrowsAsync<FormatException>(async () =>
        {
            await foreach (int item in channel.Reader.ReadAllAsync())
            {
                read.Add(item);
            }
        });

        Assert.Same(error, thrown);
        Assert.Equal([1], read);
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsyncReadAsync_ConcurrentSingleProducerConsumer_AllInOrder()
    {
        const int Items = 10_000;
        Channel<int> channel = CreateChannel(8);
        Task producer = Task.Run(async () =>
        {
            for (int i = 0; i < Items; i++)
            {
                await channel.Writer.WriteAsync(i);
            }
        });

        for (int i = 0; i < Items; i++)
        {
            Assert.Equal(i, await channel.Reader.ReadAsync());
        }

        await producer.WaitAsync(Bound);
    }

    // ---- full modes ----

    [Theory]
    [InlineData(BoundedChannelFullMode.DropWrite, new[] { 0, 1, 2 }, new[] { 3, 4 })]
    [InlineData(BoundedChannelFullMode.DropNewest, new[] { 0, 1, 4 }, new[] { 2, 3 })]
    [InlineData(BoundedChannelFullMode.DropOldest, new[] { 2, 3, 4 }, new[] { 0, 1 })]
    public async Task TryWrite_FullInDropMode_DropsPerModeAndReportsEachDrop(BoundedChannelFullMode mode, int[] kept, int[] dropped)
    {
        var reported = new List<int>();
        Channel<int> channel = CreateChannel<int>(3, mode, reported.Add);

        for (int i = 0; i < 5; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        Assert.Equal(dropped, reported);
        Assert.Equal(dropped.Length, ((IHandoff)channel).Dropped);
        Assert.Equal(dropped.Length, Handoff.GetDropped(channel));
        channel.Writer.Complete();
        var read = new List<int>();
        await foreach (int item in channel.Reader.ReadAllAsync())
        {
            read.Add(item);
        }

        Assert.Equal(kept, read);
    }

    [Theory]
    [InlineData(BoundedChannelFullMode.DropWrite)]
    [InlineData(BoundedChannelFullMode.DropNewest)]
    [InlineData(BoundedChannelFullMode.DropOldest)]
    public async Task WriteAsync_FullInDropMode_CompletesSynchronouslyAndCounts(BoundedChannelFullMode mode)
    {
        int reported = 0;
        Channel<int> channel = CreateChannel<int>(1, mode, _ => reported++);
        await channel.Writer.WriteAsync(1);

        ValueTask write = channel.Writer.WriteAsync(2);
        ValueTask<bool> wait = channel.Writer.WaitToWriteAsync();

        Assert.True(write.IsCompletedSuccessfully);
        Assert.True(wait.IsCompletedSuccessfully);
        Assert.True(await wait);
        Assert.Equal(1, reported);
        Assert.Equal(1, ((IHandoff)channel).Dropped);
        Assert.Equal(1, channel.Reader.Count);
    }

    [Fact]
    public void TryWrite_DropModeWithoutCallback_StillCountsDrops()
    {
        Channel<int> channel = CreateChannel(2, BoundedChannelFullMode.DropOldest);

        for (int i = 0; i < 10; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        Assert.Equal(8, ((IHandoff)channel).Dropped);
    }

    [Fact]
    public void TryWrite_WaitModeWhenFull_DropsNothing()
    {
        int reported = 0;
        Channel<int> channel = CreateChannel<int>(1, BoundedChannelFullMode.Wait, _ => reported++);
        Assert.True(channel.Writer.TryWrite(1));

        Assert.False(channel.Writer.TryWrite(2));

        Assert.Equal(0, reported);
        Assert.Equal(0, ((IHandoff)channel).Dropped);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(BoundedChannelFullMode.DropOldest)]
    [InlineData(BoundedChannelFullMode.DropNewest)]
    [InlineData(BoundedChannelFullMode.DropWrite)]
    public async Task WriteAsync_DropModeUnderConcurrentReaders_EveryItemReadOrReportedDroppedOnce(BoundedChannelFullMode mode)
    {
        const int Writers = 4;
        const int PerWriter = 50_000;
        var outcomes = new int[Writers * PerWriter];
        Channel<int> channel = CreateChannel<int>(8, mode, item => Interlocked.Add(ref outcomes[item], 1_000));
        Task[] writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < PerWriter; i++)
            {
                await channel.Writer.WriteAsync((w * PerWriter) + i);
            }
        })).ToArray();
        Task[] readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            await foreach (int item in channel.Reader.ReadAllAsync())
            {
                Interlocked.Increment(ref outcomes[item]);
            }
        })).ToArray();

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
        channel.Writer.Complete();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30));

        // 1 = read once, 1000 = reported dropped once; anything else is a loss or a duplicate.
        Assert.Equal(0, outcomes.Count(outcome => outcome is not (1 or 1_000)));
        Assert.Equal(outcomes.Count(outcome => outcome == 1_000), ((IHandoff)channel).Dropped);
    }

    // ---- cancellation ----

    [Fact]
    public async Task AsyncMembers_PrecanceledToken_CanceledWithoutEffect()
    {
        Channel<int> channel = CreateChannel(1);
        using var source = new CancellationTokenSource();
        source.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Writer.WriteAsync(1, source.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Writer.WaitToWriteAsync(source.Token).AsTask());
        Assert.Equal(0, channel.Reader.Count);
        Assert.True(channel.Writer.TryWrite(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Reader.ReadAsync(source.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Reader.WaitToReadAsync(source.Token).AsTask());
        Assert.Equal(1, channel.Reader.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_CanceledWhileWaiting_NextItemGoesToAnotherReader()
    {
        Channel<int> channel = CreateChannel();
        using var source = new CancellationTokenSource();
        ValueTask<int> canceled = channel.Reader.ReadAsync(source.Token);
        ValueTask<int> other = channel.Reader.ReadAsync();
        Assert.False(canceled.IsCompleted);

        source.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.AsTask().WaitAsync(Bound));
        Assert.True(channel.Writer.TryWrite(3));

        Assert.Equal(3, await other.AsTask().WaitAsync(Bound));
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_CanceledWhileWaiting_ItemNotDelivered()
    {
        Channel<int> channel = CreateChannel(1);
        Assert.True(channel.Writer.TryWrite(1));
        using var source = new CancellationTokenSource();
        ValueTask canceled = channel.Writer.WriteAsync(2, source.Token);
        ValueTask other = channel.Writer.WriteAsync(3);
        Assert.False(canceled.IsCompleted);

        source.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.AsTask().WaitAsync(Bound));
        Assert.Equal(1, await channel.Reader.ReadAsync());
        await other.AsTask().WaitAsync(Bound);

        Assert.Equal(3, await channel.Reader.ReadAsync());
        Assert.False(channel.Reader.TryRead(out _));
    }

    /// <summary>
    /// Waits (bounded, blocking) for <paramref name="operation"/> and tells whether it was cancelled. The race tests block
    /// rather than await so that no part of them runs inline on the canceling thread.
    /// </summary>
    protected static bool ThrewCanceled(Task operation)
    {
        Assert.True(Task.WaitAny([operation], Bound) == 0, "The operation did not finish.");
        if (operation.IsCanceled)
        {
            return true;
        }

        operation.GetAwaiter().GetResult();
        return false;
    }

    /// <summary>A write waits on a full handoff; its cancellation races the read that makes room.</summary>
    [Fact]
    public void WriteAsync_CancelRacingRoomForIt_DeliversIffNotThrown()
    {
        const int Iterations = 1_500;
        using var canceler = new RacingCanceler();
        for (int i = 0; i < Iterations; i++)
        {
            Channel<int> channel = CreateChannel(1);
            Assert.True(channel.Writer.TryWrite(-1));
            using var source = new CancellationTokenSource();
            Task write = channel.Writer.WriteAsync(i, source.Token).AsTask();
            canceler.Arm(source);
            canceler.Fire();
            Assert.True(channel.Reader.TryRead(out int first));
            Assert.Equal(-1, first);

            bool threw = ThrewCanceled(write);
            canceler.WaitCanceled();
            bool present = channel.Reader.TryRead(out int item);
            Assert.True(threw != present, $"iteration {i}: write threw = {threw}, item present = {present}");
            Assert.True(!present || item == i);
        }
    }

    /// <summary>A read waits on an empty handoff; its cancellation races the write of an item.</summary>
    [Fact]
    public void ReadAsync_CancelRacingAnItem_TakesIffNotThrown()
    {
        const int Iterations = 1_500;
        using var canceler = new RacingCanceler();
        for (int i = 0; i < Iterations; i++)
        {
            Channel<int> channel = CreateChannel(1);
            using var source = new CancellationTokenSource();
            Task<int> read = channel.Reader.ReadAsync(source.Token).AsTask();
            canceler.Arm(source);
            canceler.Fire();
            Assert.True(channel.Writer.TryWrite(i));

            bool threw = ThrewCanceled(read);
            canceler.WaitCanceled();
            bool stillThere = channel.Reader.TryRead(out int left);
            Assert.True(threw == stillThere, $"iteration {i}: read threw = {threw}, item still in the handoff = {stillThere}");
            Assert.Equal(i, threw ? left : read.Result);
        }
    }

    /// <summary>
    /// The cancellation races the write call itself, while it registers as a waiter on a full handoff; room is made only
    /// after the cancellation has run. The item must be delivered iff the write did not throw.
    /// </summary>
    [Fact]
    public virtual void WriteAsync_CancelRacingItsRegistration_DeliversIffNotThrown()
    {
        const int Iterations = 1_500;
        using var canceler = new RacingCanceler();
        for (int i = 0; i < Iterations; i++)
        {
            Channel<int> channel = CreateChannel(1);
            Assert.True(channel.Writer.TryWrite(-1));
            using var source = new CancellationTokenSource();
            canceler.Arm(source);
            canceler.Fire();
            Task write = channel.Writer.WriteAsync(i, source.Token).AsTask();
            canceler.WaitCanceled();
            Assert.True(channel.Reader.TryRead(out int first));
            Assert.Equal(-1, first);

            bool threw = ThrewCanceled(write);
            bool present = channel.Reader.TryRead(out int item);
            Assert.True(threw != present, $"iteration {i}: write threw = {threw}, item present = {present}");
            Assert.True(!present || item == i);
        }
    }

    /// <summary>
    /// The cancellation races the read call itself, while it registers as a waiter on an empty handoff; the item is
    /// written only after the cancellation has run. The item must be taken iff the read did not throw.
    /// </summary>
    [Fact]
    public virtual void ReadAsync_CancelRacingItsRegistration_TakesIffNotThrown()
    {
        const int Iterations = 1_500;
        using var canceler = new RacingCanceler();
        for (int i = 0; i < Iterations; i++)
        {
            Channel<int> channel = CreateChannel(1);
            using var source = new CancellationTokenSource();
            canceler.Arm(source);
            canceler.Fire();
            Task<int> read = channel.Reader.ReadAsync(source.Token).AsTask();
            canceler.WaitCanceled();
            Assert.True(channel.Writer.TryWrite(i));

            bool threw = ThrewCanceled(read);
            bool stillThere = channel.Reader.TryRead(out int left);
            Assert.True(threw == stillThere, $"iteration {i}: read threw = {threw}, item still in the handoff = {stillThere}");
            Assert.Equal(i, threw ? left : read.Result);
        }
    }

    // ---- load ----

    [Fact(Timeout = 60_000)]
    public async Task WriteAsyncReadAsync_MillionItemsFourByFour_ExactlyOnceInProducerOrder()
    {
        const int Producers = 4;
        const int Consumers = 4;
        const int PerProducer = 250_000;
        Channel<long> channel = CreateChannel<long>(1024);
        Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (long seq = 0; seq < PerProducer; seq++)
            {
                await channel.Writer.WriteAsync(((long)p << 32) | seq);
            }
        })).ToArray();
        var seen = new int[Producers * PerProducer];
        // Half the consumers drain with WaitToReadAsync/TryRead, half with ReadAsync, so both wait paths are loaded.
        Task<bool>[] consumers = Enumerable.Range(0, Consumers).Select(c => Task.Run(async () =>
        {
            var last = new long[Producers];
            Array.Fill(last, -1);
            bool ordered = true;
            void Record(long item)
            {
                int producer = (int)(item >> 32);
                long seq = item & 0xFFFF_FFFF;
                ordered &= seq > last[producer];
                last[producer] = seq;
                Interlocked.Increment(ref seen[(producer * PerProducer) + seq]);
            }

            if (c % 2 == 0)
            {
                while (await channel.Reader.WaitToReadAsync())
                {
                    while (channel.Reader.TryRead(out long item))
                    {
                        Record(item);
                    }
                }
            }
            else
            {
                try
                {
                    while (true)
                    {
                        Record(await channel.Reader.ReadAsync());
                    }
                }
                catch (ChannelClosedException)
                {
                }
            }

            return ordered;
        })).ToArray();

        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(30));
        channel.Writer.Complete();
        bool[] ordered = await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(ordered, Assert.True);
        Assert.Equal(0, seen.Count(count => count != 1));
        await channel.Reader.Completion.WaitAsync(Bound);
    }
}
