using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

public abstract partial class ChannelConformanceTests
{
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
}
