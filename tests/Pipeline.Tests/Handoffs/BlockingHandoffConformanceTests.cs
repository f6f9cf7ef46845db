using System.Diagnostics;
using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// The conformance suite plus the blocking members of <see cref="IBlockingHandoff{T}"/>, which the BCL bounded channel
/// does not have; run by the custom kinds.
/// </summary>
public abstract partial class BlockingHandoffConformanceTests : ChannelConformanceTests
{
    private IBlockingHandoff<T> CreateBlocking<T>(int capacity, BoundedChannelFullMode mode = BoundedChannelFullMode.Wait) =>
        Assert.IsAssignableFrom<IBlockingHandoff<T>>(CreateChannel<T>(capacity, mode));

    /// <summary>Waits (bounded) until <paramref name="thread"/> is blocked, so that a test acts on a waiting thread.</summary>
    private static void WaitUntilBlocked(Thread thread)
    {
        var watch = Stopwatch.StartNew();
        while ((thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0)
        {
            Assert.True(watch.Elapsed < Bound, "The thread never blocked.");
            Thread.Yield();
        }
    }

    private static Thread Start(Action action, out Func<Exception?> join)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        })
        { IsBackground = true };
        thread.Start();
        join = () =>
        {
            Assert.True(thread.Join(Bound), "The thread did not finish.");
            return failure;
        };
        return thread;
    }

    [Fact]
    public void WriteRead_SameThread_FirstInFirstOut()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(3);

        handoff.Write(1);
        handoff.Write(2);

        Assert.Equal(1, handoff.Read());
        Assert.Equal(2, handoff.Read());
    }

    [Fact]
    public void Read_EmptyUntilAnotherThreadWrites_ReturnsThatItem()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(3);
        int read = 0;
        Thread reader = Start(() => read = handoff.Read(), out Func<Exception?> join);
        WaitUntilBlocked(reader);

        ((Channel<int>)handoff).Writer.TryWrite(8);

        Assert.Null(join());
        Assert.Equal(8, read);
    }

    [Fact]
    public void Write_FullUntilAnotherThreadReads_DeliversItem()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
        handoff.Write(1);
        Thread writer = Start(() => handoff.Write(2), out Func<Exception?> join);
        WaitUntilBlocked(writer);

        Assert.Equal(1, handoff.Read());

        Assert.Null(join());
        Assert.Equal(2, handoff.Read());
    }

    [Fact]
    public void Read_BlockedWhenCompleted_ThrowsChannelClosedException()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
        var error = new FormatException();
        Thread reader = Start(() => handoff.Read(), out Func<Exception?> join);
        WaitUntilBlocked(reader);

        ((Channel<int>)handoff).Writer.Complete(error);

        ChannelClosedException closed = Assert.IsType<ChannelClosedException>(join());
        Assert.Same(error, closed.InnerException);
    }

    [Fact]
    public void Write_BlockedWhenCompleted_ThrowsAndDoesNotDeliver()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
        handoff.Write(1);
        Thread writer = Start(() => handoff.Write(2), out Func<Exception?> join);
        WaitUntilBlocked(writer);

        ((Channel<int>)handoff).Writer.Complete();

        Assert.IsType<ChannelClosedException>(join());
        Assert.Equal(1, handoff.Read());
        Assert.Throws<ChannelClosedException>(() => handoff.Read());
    }

    [Fact]
    public void Read_CanceledWhileBlocked_ThrowsAndTakesNothing()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
        using var source = new CancellationTokenSource();
        Thread reader = Start(() => handoff.Read(source.Token), out Func<Exception?> join);
        WaitUntilBlocked(reader);

        source.Cancel();

        Assert.IsAssignableFrom<OperationCanceledException>(join());
        handoff.Write(5);
        Assert.Equal(5, handoff.Read());
    }

    [Fact]
    public void Write_CanceledWhileBlocked_ThrowsAndDoesNotDeliver()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
        handoff.Write(1);
        using var source = new CancellationTokenSource();
        Thread writer = Start(() => handoff.Write(2, source.Token), out Func<Exception?> join);
        WaitUntilBlocked(writer);

        source.Cancel();

        Assert.IsAssignableFrom<OperationCanceledException>(join());
        Assert.Equal(1, handoff.Read());
        Assert.False(handoff.TryRead(out _, TimeSpan.Zero));
    }

    [Fact]
    public void TryRead_EmptyWithTimeout_ReturnsFalseAfterAboutTheTimeout()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
        var timeout = TimeSpan.FromMilliseconds(200);
        var watch = Stopwatch.StartNew();

        Assert.False(handoff.TryRead(out _, timeout));

        Assert.InRange(watch.Elapsed, timeout * 0.6, timeout * 10);
    }

    [Fact]
    public void TryWrite_FullWithTimeout_ReturnsFalseAfterAboutTheTimeoutAndDoesNotDeliver()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
        handoff.Write(1);
        var timeout = TimeSpan.FromMilliseconds(200);
        var watch = Stopwatch.StartNew();

        Assert.False(handoff.TryWrite(2, timeout));

        Assert.InRange(watch.Elapsed, timeout * 0.6, timeout * 10);
        Assert.Equal(1, ((Channel<int>)handoff).Reader.Count);
    }

    [Fact]
    public void TryReadTryWrite_ZeroTimeout_NeverWait()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);

        Assert.False(handoff.TryRead(out _, TimeSpan.Zero));
        Assert.True(handoff.TryWrite(1, TimeSpan.Zero));
        Assert.False(handoff.TryWrite(2, TimeSpan.Zero));
        Assert.True(handoff.TryRead(out int item, TimeSpan.Zero));
        Assert.Equal(1, item);
    }

    [Fact]
    public void TryReadTryWrite_NegativeTimeout_ThrowArgumentOutOfRange()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);

        Assert.Throws<ArgumentOutOfRangeException>("timeout", () => handoff.TryRead(out _, TimeSpan.FromMilliseconds(-2)));
        Assert.Throws<ArgumentOutOfRangeException>("timeout", () => handoff.TryWrite(1, TimeSpan.FromMilliseconds(-2)));
        Assert.Equal(0, ((Channel<int>)handoff).Reader.Count);
    }

    [Fact]
    public void TryRead_CompletedAndDrained_ThrowsChannelClosedException()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
        handoff.Write(1);
        ((Channel<int>)handoff).Writer.Complete();

        Assert.True(handoff.TryRead(out int item, TimeSpan.FromSeconds(1)));
        Assert.Equal(1, item);
        Assert.Throws<ChannelClosedException>(() => handoff.TryRead(out _, TimeSpan.FromSeconds(1)));
        Assert.Throws<ChannelClosedException>(() => handoff.TryWrite(2, TimeSpan.FromSeconds(1)));
        Assert.True(((Channel<int>)handoff).Reader.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public void Write_FullInDropOldestMode_DropsAndReportsWithoutBlocking()
    {
        IBlockingHandoff<int> handoff = CreateBlocking<int>(2, BoundedChannelFullMode.DropOldest);

        for (int i = 0; i < 5; i++)
        {
            handoff.Write(i);
        }

        Assert.Equal(3, handoff.Dropped);
        Assert.Equal(3, handoff.Read());
        Assert.Equal(4, handoff.Read());
    }

    [Fact]
    public void Write_CancelRacingRoomForIt_DeliversIffNotThrown()
    {
        const int Iterations = 1_000;
        using var canceler = new RacingCanceler();
        for (int i = 0; i < Iterations; i++)
        {
            IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
            handoff.Write(-1);
            using var source = new CancellationTokenSource();
            Thread writer = Start(() => handoff.Write(i, source.Token), out Func<Exception?> join);
            WaitUntilBlocked(writer);
            canceler.Arm(source);
            canceler.Fire();
            Assert.Equal(-1, handoff.Read());
            Exception? failure = join();
            canceler.WaitCanceled();

            bool present = handoff.TryRead(out int item, TimeSpan.Zero);
            Assert.True(failure is OperationCanceledException != present, $"iteration {i}: write failure = {failure}, item present = {present}");
            Assert.True(!present || item == i);
            GC.KeepAlive(writer);
        }
    }

    [Fact]
    public void Read_CancelRacingAnItem_TakesIffNotThrown()
    {
        const int Iterations = 1_000;
        using var canceler = new RacingCanceler();
        for (int i = 0; i < Iterations; i++)
        {
            IBlockingHandoff<int> handoff = CreateBlocking<int>(1);
            using var source = new CancellationTokenSource();
            int taken = -1;
            Thread reader = Start(() => taken = handoff.Read(source.Token), out Func<Exception?> join);
            WaitUntilBlocked(reader);
            canceler.Arm(source);
            canceler.Fire();
            handoff.Write(i);
            Exception? failure = join();
            canceler.WaitCanceled();

            bool stillThere = handoff.TryRead(out int left, TimeSpan.Zero);
            Assert.True(failure is OperationCanceledException == stillThere, $"iteration {i}: read failure = {failure}, item still there = {stillThere}");
            Assert.Equal(i, stillThere ? left : taken);
            GC.KeepAlive(reader);
        }
    }

    [Fact]
    public void WriteRead_MillionItemsOnDedicatedThreads_ExactlyOnceInProducerOrder()
    {
        const int Producers = 2;
        const int Consumers = 2;
        const int PerProducer = 500_000;
        IBlockingHandoff<long> handoff = CreateBlocking<long>(1024);
        var seen = new int[Producers * PerProducer];
        var joins = new List<Func<Exception?>>();
        for (int p = 0; p < Producers; p++)
        {
            long producer = p;
            Start(() =>
            {
                for (long seq = 0; seq < PerProducer; seq++)
                {
                    handoff.Write((producer << 32) | seq);
                }
            }, out Func<Exception?> join);
            joins.Add(join);
        }

        var ordered = new bool[Consumers];
        var consumerJoins = new List<Func<Exception?>>();
        for (int c = 0; c < Consumers; c++)
        {
            int consumer = c;
            Start(() =>
            {
                var last = new long[Producers];
                Array.Fill(last, -1);
                bool inOrder = true;
                try
                {
                    while (true)
                    {
                        long item = handoff.Read();
                        int producer = (int)(item >> 32);
                        long seq = item & 0xFFFF_FFFF;
                        inOrder &= seq > last[producer];
                        last[producer] = seq;
                        Interlocked.Increment(ref seen[(producer * PerProducer) + seq]);
                    }
                }
                catch (ChannelClosedException)
                {
                    ordered[consumer] = inOrder;
                }
            }, out Func<Exception?> join);
            consumerJoins.Add(join);
        }

        Assert.All(joins, join => Assert.Null(join()));
        ((Channel<long>)handoff).Writer.Complete();
        Assert.All(consumerJoins, join => Assert.Null(join()));

        Assert.All(ordered, Assert.True);
        Assert.Equal(0, seen.Count(count => count != 1));
    }
}
