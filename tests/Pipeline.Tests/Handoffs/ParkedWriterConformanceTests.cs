using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// The blocking conformance suite plus the parked-writer behaviour of the custom kinds: a writer that finds the ring
/// full leaves its item, and the reader that frees a slot moves it in, so the ring refills before the writer runs.
/// </summary>
public abstract class ParkedWriterConformanceTests : BlockingHandoffConformanceTests
{
    [Fact]
    public async Task TryRead_WriteAsyncBlockedOnFullRing_MovesItsItemIntoTheFreedSlot()
    {
        Channel<int> channel = CreateChannel(1);
        Assert.True(channel.Writer.TryWrite(1));
        ValueTask write = channel.Writer.WriteAsync(2);
        ValueTask<bool> waitToWrite = channel.Writer.WaitToWriteAsync();
        Assert.False(write.IsCompleted);

        Assert.True(channel.Reader.TryRead(out int first));

        // The blocked writer's item is in the ring before its continuation runs, so a reader finds it at once.
        Assert.Equal(1, channel.Reader.Count);
        Assert.False(waitToWrite.IsCompleted);
        Assert.True(channel.Reader.TryRead(out int second));
        Assert.Equal((1, 2), (first, second));
        await write.AsTask().WaitAsync(Bound);
        Assert.True(await waitToWrite.AsTask().WaitAsync(Bound));
        Assert.False(channel.Reader.TryRead(out _));
    }

    [Fact]
    public async Task TryRead_SeveralWritersBlocked_MovesTheirItemsInArrivalOrder()
    {
        Channel<int> channel = CreateChannel(1);
        Assert.True(channel.Writer.TryWrite(0));
        Task[] writes = [channel.Writer.WriteAsync(1).AsTask(), channel.Writer.WriteAsync(2).AsTask(), channel.Writer.WriteAsync(3).AsTask()];

        var read = new List<int>();
        for (int i = 0; i < 4; i++)
        {
            Assert.True(channel.Reader.TryRead(out int item));
            read.Add(item);
        }

        Assert.Equal([0, 1, 2, 3], read);
        await Task.WhenAll(writes).WaitAsync(Bound);
    }

    [Fact]
    public async Task WriteAsync_CancelledWhileBlocked_WithdrawsOnlyItsItem()
    {
        Channel<int> channel = CreateChannel(1);
        using var cancellation = new CancellationTokenSource();
        Assert.True(channel.Writer.TryWrite(0));
        ValueTask before = channel.Writer.WriteAsync(1);
        ValueTask cancelled = channel.Writer.WriteAsync(2, cancellation.Token);
        ValueTask after = channel.Writer.WriteAsync(3);

        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.AsTask().WaitAsync(Bound));

        var read = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(channel.Reader.TryRead(out int item));
            read.Add(item);
        }

        Assert.Equal([0, 1, 3], read);
        Assert.False(channel.Reader.TryRead(out _));
        await Task.WhenAll(before.AsTask(), after.AsTask()).WaitAsync(Bound);
    }

    [Fact]
    public async Task WriteAsync_CancelledAfterItsItemWasMoved_CompletesAsDelivered()
    {
        Channel<int> channel = CreateChannel(1);
        using var cancellation = new CancellationTokenSource();
        Assert.True(channel.Writer.TryWrite(1));
        ValueTask write = channel.Writer.WriteAsync(2, cancellation.Token);

        Assert.True(channel.Reader.TryRead(out _));
        await cancellation.CancelAsync();

        await write.AsTask().WaitAsync(Bound);
        Assert.True(channel.Reader.TryRead(out int moved));
        Assert.Equal(2, moved);
    }

    [Fact]
    public async Task TryComplete_WriterBlocked_FailsItsWriteAndKeepsItsItemOut()
    {
        Channel<int> channel = CreateChannel(1);
        Assert.True(channel.Writer.TryWrite(1));
        ValueTask write = channel.Writer.WriteAsync(2);

        Assert.True(channel.Writer.TryComplete());

        await Assert.ThrowsAsync<ChannelClosedException>(() => write.AsTask().WaitAsync(Bound));
        Assert.True(channel.Reader.TryRead(out int item));
        Assert.Equal(1, item);
        Assert.False(channel.Reader.TryRead(out _));
        await channel.Reader.Completion.WaitAsync(Bound);
    }

    [Fact]
    public async Task Write_BlockedThread_ItsItemIsReadableOnceASlotIsFreed()
    {
        var handoff = Assert.IsAssignableFrom<IBlockingHandoff<int>>(CreateChannel(1));
        handoff.Write(1);
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = new Thread(() =>
        {
            handoff.Write(2);
            written.SetResult();
        })
        { IsBackground = true };
        writer.Start();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while ((writer.ThreadState & ThreadState.WaitSleepJoin) == 0)
        {
            Assert.True(watch.Elapsed < Bound, "The writer never blocked.");
            Thread.Yield();
        }

        Assert.False(written.Task.IsCompleted);

        Assert.Equal(1, handoff.Read());
        Assert.Equal(2, handoff.Read(new CancellationTokenSource(Bound).Token));
        await written.Task.WaitAsync(Bound);
    }
}
