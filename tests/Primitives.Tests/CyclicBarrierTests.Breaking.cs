using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class CyclicBarrierTests
{
    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_ZeroTimeoutWhenNotLast_BreaksTheBarrierForAll()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(3);
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            barrier.SignalAndWait();
        });
        Concurrency.WaitUntil(() => barrier.WaitingCount == 1, "the first party to wait");
        var clock = Stopwatch.StartNew();

        Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait(TimeSpan.Zero));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        waiter.AssertFails<BrokenBarrierException>();
        Assert.True(barrier.IsBroken);
        Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait());
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWaitAsync_ZeroTimeoutWhenNotLast_BreaksTheBarrierForAll()
    {
        var barrier = new CyclicBarrier(3);
        var waiting = barrier.SignalAndWaitAsync().AsTask();

        await Assert.ThrowsAsync<BrokenBarrierException>(async () => await barrier.SignalAndWaitAsync(TimeSpan.Zero));

        await Assert.ThrowsAsync<BrokenBarrierException>(() => waiting.WaitAsync(Concurrency.HangTimeout));
        Assert.True(barrier.IsBroken);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_ZeroTimeoutWhenLast_Passes()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(2);
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return barrier.SignalAndWait();
        });
        Concurrency.WaitUntil(() => barrier.WaitingCount == 1, "the first party to wait");

        Assert.Equal(1, barrier.SignalAndWait(TimeSpan.Zero));

        Assert.Equal(0, waiter.Result<int>());
        Assert.False(barrier.IsBroken);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWaitAsync_TimeoutOfOneParty_BreaksTheBarrierForTheOthers()
    {
        var barrier = new CyclicBarrier(3);
        var untimed = barrier.SignalAndWaitAsync().AsTask();
        var timeout = TimeSpan.FromMilliseconds(100);
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAsync<BrokenBarrierException>(() => barrier.SignalAndWaitAsync(timeout).AsTask().WaitAsync(Concurrency.HangTimeout));

        Concurrency.AssertDuration(clock.Elapsed, timeout);
        await Assert.ThrowsAsync<BrokenBarrierException>(() => untimed.WaitAsync(Concurrency.HangTimeout));
        Assert.True(barrier.IsBroken);
        Assert.Equal(0, barrier.WaitingCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_NegativeTimeout_ThrowsArgumentOutOfRangeWithoutArriving()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(1);

        Assert.Throws<ArgumentOutOfRangeException>(() => barrier.SignalAndWait(TimeSpan.FromMilliseconds(-2)));

        Assert.False(barrier.IsBroken);
        Assert.Equal(0, barrier.WaitingCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWaitAsync_NegativeTimeout_ThrowsArgumentOutOfRangeWithoutArriving()
    {
        var barrier = new CyclicBarrier(1);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await barrier.SignalAndWaitAsync(TimeSpan.FromSeconds(-100)));

        Assert.False(barrier.IsBroken);
        Assert.Equal(0, barrier.WaitingCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_InfiniteTimeout_WaitsForTheOthers()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(2, timeout: TimeSpan.FromMilliseconds(1));
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return barrier.SignalAndWait(Timeout.InfiniteTimeSpan);
        });
        Concurrency.WaitUntil(() => barrier.WaitingCount == 1, "the party to wait");
        waiter.AssertStaysBlocked();

        Assert.Equal(1, barrier.SignalAndWait(Timeout.InfiniteTimeSpan));

        Assert.Equal(0, waiter.Result<int>());
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_CancelledWhileWaiting_WithdrawsWithoutBreaking()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(3);
        using var cancellation = new CancellationTokenSource();
        var cancelled = Waiter.Start(waiter =>
        {
            waiter.Enter();
            barrier.SignalAndWait(cancellation.Token);
        });
        Concurrency.WaitUntil(() => barrier.WaitingCount == 1, "the party to wait");

        cancellation.Cancel();

        cancelled.AssertFails<OperationCanceledException>();
        Assert.Equal(0, barrier.WaitingCount);
        Assert.False(barrier.IsBroken);
        var parties = Enumerable.Range(0, 3).Select(_ => Concurrency.Run(() => barrier.SignalAndWait())).ToArray();
        Assert.Equal([0, 1, 2], Concurrency.AssertCompletes(Task.WhenAll(parties)).Order());
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWaitAsync_CancelledWhileWaiting_WithdrawsWithoutBreaking()
    {
        var barrier = new CyclicBarrier(3);
        using var cancellation = new CancellationTokenSource();
        var stays = barrier.SignalAndWaitAsync().AsTask();
        var cancelled = barrier.SignalAndWaitAsync(TimeSpan.FromSeconds(30), cancellation.Token).AsTask();
        Assert.Equal(2, barrier.WaitingCount);

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));
        Assert.Equal(1, barrier.WaitingCount);
        Assert.False(barrier.IsBroken);
        Assert.False(stays.IsCompleted);
        var second = barrier.SignalAndWaitAsync().AsTask();
        var third = barrier.SignalAndWaitAsync().AsTask();
        var indices = await Task.WhenAll(stays, second, third).WaitAsync(Concurrency.HangTimeout);
        Assert.Equal([0, 1, 2], indices.Order());
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWaitAsync_FirstArrivalCancelled_IndicesStayDistinct()
    {
        var barrier = new CyclicBarrier(3);
        using var cancellation = new CancellationTokenSource();
        var cancelled = barrier.SignalAndWaitAsync(cancellation.Token).AsTask();
        var stays = barrier.SignalAndWaitAsync().AsTask();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));
        Assert.Equal(1, barrier.WaitingCount);
        var second = barrier.SignalAndWaitAsync().AsTask();
        Assert.Equal(2, barrier.WaitingCount);
        var third = barrier.SignalAndWaitAsync().AsTask();
        var indices = await Task.WhenAll(stays, second, third).WaitAsync(Concurrency.HangTimeout);
        Assert.Equal([0, 1, 2], indices.Order());
        Assert.False(barrier.IsBroken);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_PreCancelled_ThrowsWithoutArriving()
    {
        var barrier = new CyclicBarrier(2);

        Assert.ThrowsAny<OperationCanceledException>(() => barrier.SignalAndWait(Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await barrier.SignalAndWaitAsync(Concurrency.CancelledToken()));

        Assert.Equal(0, barrier.WaitingCount);
        Assert.False(barrier.IsBroken);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_ActionThrows_RunnerGetsItAndOthersGetBrokenBarrier()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(3, () => throw new DivideByZeroException());
        var others = Enumerable.Range(0, 2).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            barrier.SignalAndWait();
        })).ToList();
        Concurrency.WaitUntil(() => barrier.WaitingCount == 2, "two parties to wait");

        Assert.Throws<DivideByZeroException>(() => barrier.SignalAndWait());

        others.ForEach(other => other.AssertFails<BrokenBarrierException>());
        Assert.True(barrier.IsBroken);
        Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait());
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWaitAsync_ActionThrows_RunnerGetsItAndOthersGetBrokenBarrier()
    {
        var barrier = new CyclicBarrier(2, () => throw new DivideByZeroException());
        var other = barrier.SignalAndWaitAsync().AsTask();

        await Assert.ThrowsAsync<DivideByZeroException>(async () => await barrier.SignalAndWaitAsync());

        await Assert.ThrowsAsync<BrokenBarrierException>(() => other.WaitAsync(Concurrency.HangTimeout));
        Assert.True(barrier.IsBroken);
    }

    [Fact(Timeout = 30_000)]
    public async Task Abort_WithPartiesWaiting_BreaksTheirWaitsAndLaterOnes()
    {
        var barrier = new CyclicBarrier(3);
        var thread = Waiter.Start(waiter =>
        {
            waiter.Enter();
            barrier.SignalAndWait();
        });
        var task = barrier.SignalAndWaitAsync().AsTask();
        Concurrency.WaitUntil(() => barrier.WaitingCount == 2, "two parties to wait");

        barrier.Abort();

        thread.AssertFails<BrokenBarrierException>();
        await Assert.ThrowsAsync<BrokenBarrierException>(() => task.WaitAsync(Concurrency.HangTimeout));
        Assert.True(barrier.IsBroken);
        Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait());
        await Assert.ThrowsAsync<BrokenBarrierException>(async () => await barrier.SignalAndWaitAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task Reset_AfterBreak_MakesTheBarrierUsableAgain()
    {
        var barrier = new CyclicBarrier(2);
        barrier.Abort();
        Assert.True(barrier.IsBroken);

        barrier.Reset();

        Assert.False(barrier.IsBroken);
        Assert.Equal(0, barrier.WaitingCount);
        var first = barrier.SignalAndWaitAsync().AsTask();
        var second = barrier.SignalAndWaitAsync().AsTask();
        Assert.Equal([0, 1], (await Task.WhenAll(first, second).WaitAsync(Concurrency.HangTimeout)).Order());
    }

    [Fact(Timeout = 30_000)]
    public async Task Reset_WithoutWaiters_KeepsTheBarrierUsable()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(1);

        barrier.Reset();

        Assert.False(barrier.IsBroken);
        Assert.Equal(0, barrier.SignalAndWait());
    }

    // test_repr: the counts it prints
    [Fact(Timeout = 30_000)]
    public async Task WaitingCount_FollowsArrivalsAndReleases()
    {
        var barrier = new CyclicBarrier(3);
        var first = barrier.SignalAndWaitAsync().AsTask();
        Assert.Equal(1, barrier.WaitingCount);
        var second = barrier.SignalAndWaitAsync().AsTask();
        Assert.Equal(2, barrier.WaitingCount);

        var third = await barrier.SignalAndWaitAsync();

        Assert.Equal(2, third);
        Assert.Equal(0, barrier.WaitingCount);
        Assert.Equal([0, 1], (await Task.WhenAll(first, second).WaitAsync(Concurrency.HangTimeout)).Order());
        barrier.Abort();
        Assert.True(barrier.IsBroken);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWaitAsync_LastArrival_CompletesSynchronously()
    {
        var barrier = new CyclicBarrier(2);
        var first = barrier.SignalAndWaitAsync().AsTask();

        Assert.Equal(1, Concurrency.CompletedResult(barrier.SignalAndWaitAsync()));

        Assert.Equal(0, await first.WaitAsync(Concurrency.HangTimeout));
    }

    /// <summary>CPython's multipass: arrivals before and after each wait are exact.</summary>
    private static void MultiPass(int passes)
    {
        var barrier = new CyclicBarrier(Parties);
        var before = 0;
        var after = 0;
        var mismatches = new ConcurrentQueue<string>();

        RunParties(async (party, sync) =>
        {
            for (var pass = 0; pass < passes; pass++)
            {
                Interlocked.Increment(ref before);
                if (Volatile.Read(ref after) != pass * Parties)
                {
                    mismatches.Enqueue($"pass {pass}: {after} parties past the second wait");
                }

                _ = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
                Interlocked.Increment(ref after);
                if (Volatile.Read(ref before) != (pass + 1) * Parties)
                {
                    mismatches.Enqueue($"pass {pass}: {before} parties past the first wait");
                }

                _ = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
            }
        });

        Assert.Empty(mismatches);
        Assert.Equal(0, barrier.WaitingCount);
        Assert.False(barrier.IsBroken);
    }

    /// <summary>
    /// Runs <see cref="Parties"/> parties: three on dedicated threads with blocking waits, two as
    /// async flows, and waits for all of them with a hard bound.
    /// </summary>
    private static void RunParties(Func<int, bool, Task> party)
    {
        var parties = Enumerable.Range(0, Parties)
            .Select(index => index < 3
                ? Concurrency.Run(() => party(index, true).GetAwaiter().GetResult())
                : Task.Run(() => party(index, false)))
            .ToArray();
        Concurrency.AssertCompletes(Task.WhenAll(parties));
    }
}
