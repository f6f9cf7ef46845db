using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

public abstract partial class ChannelConformanceTests
{
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
}
