using System.Diagnostics;
using System.Threading.Channels;
using Pipeline.Handoffs;
using Pipeline.Handoffs.Shapes;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// The shapes a pipeline puts a handoff in: several producers and consumers, small capacities, both read patterns,
/// each cell timed against the BCL bounded channel in the same test so that a livelock or a convoy fails the cell
/// (and never hangs it).
/// </summary>
public abstract partial class ChannelConformanceTests
{
    /// <summary>Items per shape cell, split among the producers; the whole matrix of every kind stays well under a minute.</summary>
    private const int ShapeItems = 16_000;

    /// <summary>How many times slower than the BCL channel a cell may be.</summary>
    private const int ShapeSlowdownLimit = 20;

    /// <summary>
    /// The least time a cell is allowed, whatever the BCL channel took: a BCL run of a few milliseconds times 20 would
    /// fail on one preemption of a loaded 2-core machine. A livelock (seconds or forever) still fails.
    /// </summary>
    private static readonly TimeSpan ShapeFloor = TimeSpan.FromSeconds(1);

    public static TheoryData<int, int, int, ReadPattern> ShapeCells
    {
        get
        {
            var cells = new TheoryData<int, int, int, ReadPattern>();
            foreach ((int producers, int consumers) in new[] { (1, 1), (1, 4), (4, 1), (4, 4), (8, 8) })
            {
                foreach (int capacity in new[] { 1, 4, 64, 1024 })
                {
                    foreach (ReadPattern pattern in Enum.GetValues<ReadPattern>())
                    {
                        cells.Add(producers, consumers, capacity, pattern);
                    }
                }
            }

            return cells;
        }
    }

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(ShapeCells))]
    public async Task Shape_ProducersByConsumers_DeliversExactlyOnceWithinTwentyTimesBcl(int producers, int consumers, int capacity, ReadPattern pattern)
    {
        int perProducer = ShapeItems / producers;
        Channel<int> bcl = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Channel, Capacity = capacity });
        TimeSpan bclTime = await ShapeWorkload.RunAsync(bcl, producers, consumers, perProducer, pattern, TimeSpan.FromSeconds(60));
        TimeSpan limit = TimeSpan.FromTicks(Math.Max(bclTime.Ticks * ShapeSlowdownLimit, ShapeFloor.Ticks));

        // Throws TimeoutException past the limit, and InvalidOperationException on a lost or repeated item.
        TimeSpan time = await ShapeWorkload.RunAsync(CreateChannel(capacity), producers, consumers, perProducer, pattern, limit);

        Assert.True(time <= limit, $"{Kind}: {time.TotalMilliseconds:F1} ms against {bclTime.TotalMilliseconds:F1} ms for the BCL channel.");
    }

    public static TheoryData<BoundedChannelFullMode, int, int> DropModesWithRoom
    {
        get
        {
            var cases = new TheoryData<BoundedChannelFullMode, int, int>();
            foreach (BoundedChannelFullMode mode in new[] { BoundedChannelFullMode.DropWrite, BoundedChannelFullMode.DropNewest, BoundedChannelFullMode.DropOldest })
            {
                foreach (int capacity in new[] { 1, 2 })
                {
                    cases.Add(mode, capacity, 1);
                    cases.Add(mode, capacity, 3);
                }
            }

            return cases;
        }
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(DropModesWithRoom))]
    public async Task DropMode_SingleWriterWritingOnlyWithRoom_DropsNothing(BoundedChannelFullMode mode, int capacity, int readers)
    {
        const int Items = 200_000;
        long droppedByCallback = 0;
        Channel<int> channel = CreateChannel<int>(capacity, mode, _ => Interlocked.Increment(ref droppedByCallback));
        int written = 0;
        long read = 0;

        Task writer = Task.Factory.StartNew(() =>
        {
            var spinner = default(SpinWait);
            while (written < Items)
            {
                // Room is only ever made by the readers, so a write after this check finds the ring not full.
                if (channel.Reader.Count < capacity)
                {
                    Assert.True(channel.Writer.TryWrite(written));
                    written++;
                    spinner = default;
                }
                else
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }

            channel.Writer.Complete();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Task[] reading = Enumerable.Range(0, readers).Select(_ => Task.Run(async () =>
        {
            while (await channel.Reader.WaitToReadAsync())
            {
                while (channel.Reader.TryRead(out _))
                {
                    Interlocked.Increment(ref read);
                }
            }
        })).ToArray();

        await Task.WhenAll(reading.Append(writer)).WaitAsync(TimeSpan.FromSeconds(50));

        Assert.Equal(0, Handoff.GetDropped(channel));
        Assert.Equal(0, Interlocked.Read(ref droppedByCallback));
        Assert.Equal(Items, Interlocked.Read(ref read));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(BoundedChannelFullMode.DropWrite)]
    [InlineData(BoundedChannelFullMode.DropNewest)]
    [InlineData(BoundedChannelFullMode.DropOldest)]
    public async Task DropMode_WriterIgnoringRoom_WrittenEqualsReadPlusDropped(BoundedChannelFullMode mode)
    {
        const int Items = 200_000;
        long droppedByCallback = 0;
        Channel<int> channel = CreateChannel<int>(2, mode, _ => Interlocked.Increment(ref droppedByCallback));
        long read = 0;

        Task writer = Task.Run(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                Assert.True(channel.Writer.TryWrite(i));
            }

            channel.Writer.Complete();
        });
        Task[] reading = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (await channel.Reader.WaitToReadAsync())
            {
                while (channel.Reader.TryRead(out _))
                {
                    Interlocked.Increment(ref read);
                }
            }
        })).ToArray();

        await Task.WhenAll(reading.Append(writer)).WaitAsync(TimeSpan.FromSeconds(50));

        long dropped = Handoff.GetDropped(channel);
        Assert.Equal(Items, Interlocked.Read(ref read) + dropped);
        Assert.Equal(dropped, Interlocked.Read(ref droppedByCallback));
    }

    [Fact(Timeout = 180_000)]
    public async Task TryCalls_EightByEightAtCapacityFour_NoneTakesFiftyMilliseconds()
    {
        // A call's wall time includes any preemption of its own thread, and a shared 2-core machine can deschedule a
        // thread for tens of milliseconds. Up to three runs: one run whose every call stays under the bound shows that
        // no call waits for a parked party (which cost seconds, in every run, when the lock was handed to one). When
        // the machine is so loaded that no run stays under it, the BCL channel measured right after is the yardstick:
        // its calls never wait for a party, so ours may not take more than twice its longest.
        var longest = new List<string>();
        TimeSpan best = TimeSpan.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            (TimeSpan time, string call) = await LongestTryCallAsync(CreateChannel(4));
            if (time < TimeSpan.FromMilliseconds(50))
            {
                return;
            }

            best = time < best ? time : best;
            longest.Add($"{call} {time.TotalMilliseconds:F1} ms");
        }

        Channel<int> bcl = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Channel, Capacity = 4 });
        (TimeSpan bclTime, string bclCall) = await LongestTryCallAsync(bcl);
        Assert.True(
            best <= 2 * bclTime && best < TimeSpan.FromSeconds(1),
            $"{Kind}: in each of 3 runs a Try call took 50 ms or more ({string.Join(", ", longest)}); " +
            $"the BCL channel's longest was {bclCall} {bclTime.TotalMilliseconds:F1} ms.");
    }

    private static async Task<(TimeSpan Longest, string Call)> LongestTryCallAsync(Channel<int> channel)
    {
        const int Producers = 8;
        const int Consumers = 8;
        const int PerProducer = 20_000;
        long longestTicks = 0;
        string longestCall = "none";
        object longestLock = new();
        long read = 0;

        void Record(long started, string call)
        {
            long ticks = Stopwatch.GetTimestamp() - started;
            if (ticks > Volatile.Read(ref longestTicks))
            {
                lock (longestLock)
                {
                    if (ticks > longestTicks)
                    {
                        longestTicks = ticks;
                        longestCall = call;
                    }
                }
            }
        }

        Task[] producing = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (int i = 0; i < PerProducer; i++)
            {
                while (true)
                {
                    long started = Stopwatch.GetTimestamp();
                    bool written = channel.Writer.TryWrite(i);
                    Record(started, "TryWrite");
                    if (written)
                    {
                        break;
                    }

                    Assert.True(await channel.Writer.WaitToWriteAsync());
                }
            }
        })).ToArray();
        Task[] consuming = Enumerable.Range(0, Consumers).Select(c => Task.Run(async () =>
        {
            while (await channel.Reader.WaitToReadAsync())
            {
                while (true)
                {
                    long started = Stopwatch.GetTimestamp();
                    bool taken = channel.Reader.TryRead(out _);
                    Record(started, "TryRead");
                    if (!taken)
                    {
                        break;
                    }

                    Interlocked.Increment(ref read);
                    started = Stopwatch.GetTimestamp();
                    channel.Reader.TryPeek(out _);
                    _ = channel.Reader.Count;
                    Record(started, "TryPeek+Count");
                }
            }
        })).ToArray();

        await Task.WhenAll(producing).WaitAsync(TimeSpan.FromSeconds(50));
        long completeStarted = Stopwatch.GetTimestamp();
        channel.Writer.TryComplete();
        Record(completeStarted, "TryComplete");
        await Task.WhenAll(consuming).WaitAsync(TimeSpan.FromSeconds(50));

        Assert.Equal(Producers * PerProducer, Interlocked.Read(ref read));
        return (Stopwatch.GetElapsedTime(0, longestTicks), longestCall);
    }
}
