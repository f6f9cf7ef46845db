using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Acknowledgement;

public class AcknowledgementTrackerTests
{
    private readonly ObservedQueue<long> _acknowledged = new();

    private AcknowledgementTracker NewTracker(int capacity = 1024, int maxCount = 1_000_000, TimeSpan? maxDelay = null, TimeProvider? time = null)
        => new(Acknowledge, capacity, maxCount, maxDelay ?? TimeSpan.FromHours(1), time ?? new FakeTimeProvider());

    private ValueTask Acknowledge(long position, CancellationToken cancellationToken)
    {
        _acknowledged.Enqueue(position);
        return default;
    }

    private static long[] RegisterAll(AcknowledgementTracker tracker, IEnumerable<long> positions)
    {
        var tickets = new List<long>();
        foreach (var position in positions)
        {
            Assert.True(tracker.TryRegister(position, out var ticket));
            tickets.Add(ticket);
        }

        return [.. tickets];
    }

    [Fact]
    public void Release_SlowItemAtFive_HoldsTheWatermarkAtFourWhileSixToHundredFinish()
    {
        using var tracker = NewTracker();
        var tickets = RegisterAll(tracker, Enumerable.Range(1, 100).Select(p => (long)p));

        foreach (var index in Enumerable.Range(0, 100).Where(i => i != 4).Reverse())
        {
            tracker.Release(tickets[index]);
        }

        Assert.Equal(4, tracker.Watermark);
        Assert.Equal(96, tracker.Pending);

        tracker.Release(tickets[4]);

        Assert.Equal(100, tracker.Watermark);
        Assert.Equal(0, tracker.Pending);
    }

    [Fact]
    public void Release_NothingAccountedFor_NoWatermark()
    {
        using var tracker = NewTracker();
        var tickets = RegisterAll(tracker, [10, 20]);

        tracker.Release(tickets[1]);

        Assert.Equal(AcknowledgementTracker.NoWatermark, tracker.Watermark);
        Assert.All(tickets, ticket => Assert.True(ticket > 0));
    }

    [Fact]
    public void Release_FanOut_AccountedWhenEveryOutputIs()
    {
        using var tracker = NewTracker();
        var tickets = RegisterAll(tracker, [1, 2]);

        // Item 1 becomes three outputs: three references added, the input's own released.
        tracker.AddReferences(tickets[0], 3);
        tracker.Release(tickets[0]);
        tracker.Release(tickets[1]);
        tracker.Release(tickets[0]);
        tracker.Release(tickets[0]);
        Assert.Equal(AcknowledgementTracker.NoWatermark, tracker.Watermark);

        tracker.Release(tickets[0]);

        Assert.Equal(2, tracker.Watermark);
    }

    [Fact]
    public void Release_FanOutToNothing_AccountedAtOnce()
    {
        using var tracker = NewTracker();
        var tickets = RegisterAll(tracker, [1]);

        tracker.AddReferences(tickets[0], 0);
        tracker.Release(tickets[0]);

        Assert.Equal(1, tracker.Watermark);
    }

    [Fact]
    public void Release_Batch_AccountedWhenTheBatchIsSunk()
    {
        using var tracker = NewTracker();
        var tickets = RegisterAll(tracker, [1, 2, 3, 4, 5, 6]);

        tracker.Release(tickets.AsSpan(3, 3));
        Assert.Equal(AcknowledgementTracker.NoWatermark, tracker.Watermark);

        tracker.Release(tickets.AsSpan(0, 3));

        Assert.Equal(6, tracker.Watermark);
    }

    [Fact]
    public void TryRegister_PositionNotIncreasing_Throws()
    {
        using var tracker = NewTracker();
        RegisterAll(tracker, [5]);

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => tracker.TryRegister(5, out _));

        Assert.Contains("strictly increasing", exception.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryRegister_RingFull_FalseUntilTheOldestIsReleased()
    {
        using var tracker = NewTracker(capacity: 4);
        var tickets = RegisterAll(tracker, [1, 2, 3, 4]);
        tracker.Release(tickets[3]);

        Assert.False(tracker.TryRegister(5, out _));
        var room = tracker.WaitForRoomAsync(CancellationToken.None).AsTask();
        Assert.False(room.IsCompleted);

        tracker.Release(tickets[0]);

        await room.WaitAsync(Bound);
        Assert.True(tracker.TryRegister(5, out var ticket));
        Assert.Equal(5, ticket);
        Assert.False(tracker.TryRegister(6, out _));
    }

    [Fact(Timeout = 30_000)]
    public async Task TryRegister_WhileAcknowledging_HeldWithinCapacityOfTheLastAcknowledgementNotTheWatermark()
    {
        // Accounted for but not yet acknowledged is delivered again after a crash: the source must not run further ahead than that.
        var acknowledging = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var persisted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var tracker = new AcknowledgementTracker(
            async (position, _) =>
            {
                acknowledging.TrySetResult(position);
                await persisted.Task;
            },
            capacity: 4, maxCount: 1_000_000, maxDelay: TimeSpan.FromHours(1), new FakeTimeProvider());
        using var stop = new CancellationTokenSource();
        var loop = tracker.RunAsync(stop.Token);
        var tickets = RegisterAll(tracker, [1, 2, 3, 4]);
        foreach (var ticket in tickets)
        {
            tracker.Release(ticket);
        }

        Assert.Equal(4, tracker.Watermark);
        Assert.False(tracker.TryRegister(5, out _));
        var room = tracker.WaitForRoomAsync(CancellationToken.None).AsTask();

        // Waiting asks for an acknowledgement at once (neither the count nor the hour-long delay is reached), and room comes only
        // once the source has recorded it.
        Assert.Equal(4, await acknowledging.Task.WaitAsync(Bound));
        Assert.False(room.IsCompleted);
        Assert.False(tracker.TryRegister(5, out _));
        persisted.SetResult();
        await room.WaitAsync(Bound);
        Assert.True(tracker.TryRegister(5, out _));

        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryRegister_AcknowledgementLoopEnded_HeldByTheWatermarkAlone()
    {
        using var tracker = NewTracker(capacity: 4);
        using var stop = new CancellationTokenSource();
        var loop = tracker.RunAsync(stop.Token);
        var tickets = RegisterAll(tracker, [1, 2, 3, 4]);
        await stop.CancelAsync();
        await loop.WaitAsync(Bound);

        tracker.Release(tickets[0]);

        // No more acknowledgements will come before the final flush: waiting for one would hang the source.
        Assert.True(tracker.TryRegister(5, out _));
    }

    [Fact(Timeout = 30_000)]
    public async Task RunAsync_CountReached_AcknowledgesOnceForTheGroup()
    {
        using var tracker = NewTracker(maxCount: 10);
        using var stop = new CancellationTokenSource();
        var loop = tracker.RunAsync(stop.Token);
        var tickets = RegisterAll(tracker, Enumerable.Range(1, 25).Select(p => (long)p));

        foreach (var ticket in tickets.Take(10))
        {
            tracker.Release(ticket);
        }

        await _acknowledged.WaitForCountAsync(1, "the first acknowledgement");
        foreach (var ticket in tickets.Skip(10).Take(10))
        {
            tracker.Release(ticket);
        }

        await _acknowledged.WaitForCountAsync(2, "the second acknowledgement");
        Assert.Equal([10L, 20L], _acknowledged);
        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact(Timeout = 30_000)]
    public async Task RunAsync_FewItems_AcknowledgesAfterTheDelay()
    {
        var time = new TimerSignalingTimeProvider();
        using var tracker = NewTracker(maxCount: 1000, maxDelay: TimeSpan.FromSeconds(1), time: time);
        using var stop = new CancellationTokenSource();
        var loop = tracker.RunAsync(stop.Token);
        var tickets = RegisterAll(tracker, [1, 2, 3, 4]);

        tracker.Release(tickets[0]);
        Assert.True(await time.TimerCreated.WaitAsync(Bound), "the tracker's timer");
        tracker.Release(tickets[1]);
        tracker.Release(tickets[2]);
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Empty(_acknowledged);

        time.Advance(TimeSpan.FromMilliseconds(1));

        await _acknowledged.WaitForCountAsync(1, "the acknowledgement after the delay");
        Assert.Equal([3L], _acknowledged);
        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact(Timeout = 30_000)]
    public async Task FlushAsync_AfterStop_SendsTheFinalWatermarkOnce()
    {
        using var tracker = NewTracker();
        using var stop = new CancellationTokenSource();
        var loop = tracker.RunAsync(stop.Token);
        var tickets = RegisterAll(tracker, [7, 8, 9]);
        tracker.Release(tickets[0]);
        tracker.Release(tickets[1]);
        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
        Assert.Empty(_acknowledged);

        await tracker.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
        await tracker.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Bound);

        Assert.Equal([8L], _acknowledged);
        Assert.Equal(8, tracker.LastAcknowledged);
    }

    [Fact(Timeout = 60_000)]
    public async Task Release_ManyThreads_WatermarkNeverPassesAnItemInFlight()
    {
        const int Items = 200_000;
        const int Threads = 8;
        var released = new int[Items + 1];
        var violations = 0;
        var checkedAcknowledgements = 0;
        using var tracker = new AcknowledgementTracker(
            (position, _) =>
            {
                // Every item at or before the acknowledged position must have been released.
                for (var p = 1; p <= position; p += 97)
                {
                    if (Volatile.Read(ref released[p]) == 0)
                    {
                        Interlocked.Increment(ref violations);
                    }
                }

                Interlocked.Increment(ref checkedAcknowledgements);
                return default;
            },
            capacity: 4096, maxCount: 512, maxDelay: TimeSpan.FromHours(1), new FakeTimeProvider());
        using var stop = new CancellationTokenSource();
        var loop = tracker.RunAsync(stop.Token);
        var queues = Enumerable.Range(0, Threads).Select(_ => new BlockingCollection<(long Ticket, int Position)>()).ToArray();
        var workers = queues.Select((queue, index) => Task.Factory.StartNew(() =>
        {
            var random = new Random(index);
            var held = new List<(long Ticket, int Position)>();
            foreach (var item in queue.GetConsumingEnumerable())
            {
                held.Add(item);

                // Release out of order: hold a few and let go of a random one.
                while (held.Count > random.Next(1, 8))
                {
                    var pick = random.Next(held.Count);
                    Volatile.Write(ref released[held[pick].Position], 1);
                    tracker.Release(held[pick].Ticket);
                    held.RemoveAt(pick);
                }
            }

            foreach (var (ticket, position) in held)
            {
                Volatile.Write(ref released[position], 1);
                tracker.Release(ticket);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        for (var position = 1; position <= Items; position++)
        {
            long ticket;
            while (!tracker.TryRegister(position, out ticket))
            {
                await tracker.WaitForRoomAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
            }

            queues[position % Threads].Add((ticket, position));
        }

        foreach (var queue in queues)
        {
            queue.CompleteAdding();
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(45));
        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
        await tracker.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Bound);

        Assert.Equal(0, violations);
        Assert.Equal(Items, tracker.Watermark);
        Assert.Equal(Items, tracker.LastAcknowledged);
        Assert.Equal(0, tracker.Pending);
        Assert.True(checkedAcknowledgements > 1, $"acknowledgements: {checkedAcknowledgements}");
        foreach (var queue in queues)
        {
            queue.Dispose();
        }
    }

    [Fact]
    public void RegisterAndRelease_SteadyState_AllocateNothing()
    {
        using var tracker = NewTracker(capacity: 64, maxCount: 16);
        var position = 0L;
        void Cycle(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Assert.True(tracker.TryRegister(++position, out var first));
                Assert.True(tracker.TryRegister(++position, out var second));
                tracker.Release(second);
                tracker.AddReferences(first, 2);
                tracker.Release(first);
                tracker.Release(first);
                tracker.Release(first);
            }
        }

        Cycle(1000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Cycle(10_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(position, tracker.Watermark);
    }
}
