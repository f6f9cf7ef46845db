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
}
