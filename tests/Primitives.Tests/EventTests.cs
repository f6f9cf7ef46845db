using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public class EventTests
{
    private static readonly TimeSpan NegativeTimeout = TimeSpan.FromMilliseconds(-2);

    // test_is_set
    [Fact(Timeout = 30_000)]
    public async Task SetAndClear_Repeated_ToggleIsSet()
    {
        await Task.Yield();
        var signal = new Event();
        Assert.False(signal.IsSet);

        signal.Set();
        Assert.True(signal.IsSet);
        signal.Set();
        Assert.True(signal.IsSet);
        signal.Clear();
        Assert.False(signal.IsSet);
        signal.Clear();

        Assert.False(signal.IsSet);
    }

    [Fact(Timeout = 30_000)]
    public async Task Constructor_InitiallySet_IsSet()
    {
        await Task.Yield();
        var signal = new Event(initialState: true);

        Assert.True(signal.IsSet);
        Assert.True(signal.Wait(TimeSpan.Zero));
    }

    // test_notify (_check_notify, then again after set(); clear())
    [Fact(Timeout = 30_000)]
    public async Task Set_FiveThreadsWaitingTwice_ReleasesAllOfThemAndNoneBefore()
    {
        await Task.Yield();
        var signal = new Event();

        CheckNotify(signal);
        signal.Set();
        signal.Clear();
        CheckNotify(signal);
    }

    // test_timeout (unset)
    [Fact(Timeout = 30_000)]
    public async Task Wait_TimeoutWhileUnset_ReturnsFalseAfterTheTimeout()
    {
        await Task.Yield();
        var signal = new Event();
        var timeout = TimeSpan.FromMilliseconds(200);
        var waiters = Enumerable.Range(0, 5).Select(_ => Concurrency.Run(() =>
        {
            var immediate = signal.Wait(TimeSpan.Zero);
            var clock = Stopwatch.StartNew();
            var timed = signal.Wait(timeout);
            return (immediate, timed, clock.Elapsed);
        })).ToList();

        foreach (var waiter in waiters)
        {
            var (immediate, timed, elapsed) = Concurrency.AssertCompletes(waiter);
            Assert.False(immediate);
            Assert.False(timed);
            Concurrency.AssertDuration(elapsed, timeout);
        }
    }

    // test_timeout (set)
    [Fact(Timeout = 30_000)]
    public async Task Wait_TimeoutWhileSet_ReturnsTrueAtOnce()
    {
        await Task.Yield();
        var signal = new Event();
        signal.Set();
        var clock = Stopwatch.StartNew();

        Assert.True(signal.Wait(TimeSpan.Zero));
        Assert.True(signal.Wait(TimeSpan.FromSeconds(5)));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAsync_TimeoutWhileUnset_ReturnsFalseAfterTheTimeout()
    {
        var signal = new Event();
        var timeout = TimeSpan.FromMilliseconds(200);
        var clock = Stopwatch.StartNew();

        Assert.False(await signal.WaitAsync(timeout).AsTask().WaitAsync(Concurrency.HangTimeout));

        Concurrency.AssertDuration(clock.Elapsed, timeout);
        Assert.False(Concurrency.CompletedResult(signal.WaitAsync(TimeSpan.Zero)));
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAsync_WhileSet_CompletesSynchronously()
    {
        await Task.Yield();
        var signal = new Event(initialState: true);

        Concurrency.Completed(signal.WaitAsync());
        Assert.True(Concurrency.CompletedResult(signal.WaitAsync(TimeSpan.FromSeconds(1))));
        Assert.True(Concurrency.CompletedResult(signal.WaitAsync(TimeSpan.Zero)));
    }

    // test_set_and_clear
    [Fact(Timeout = 30_000)]
    public async Task SetThenClear_ThreadsBlockedInWait_AllReturnTrue()
    {
        await Task.Yield();
        var signal = new Event();
        var waiters = Enumerable.Range(0, 5).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            return signal.Wait(Concurrency.HangTimeout);
        })).ToList();
        waiters.ForEach(waiter => waiter.WaitParked());

        signal.Set();
        signal.Clear();

        Assert.All(waiters, waiter => Assert.True(waiter.Result<bool>()));
        Assert.False(signal.IsSet);
    }

    [Fact(Timeout = 30_000)]
    public async Task SetThenClear_AsyncWaiters_AllComplete()
    {
        var signal = new Event();
        var untimed = Enumerable.Range(0, 3).Select(_ => signal.WaitAsync().AsTask()).ToList();
        var timed = Enumerable.Range(0, 3).Select(_ => signal.WaitAsync(Concurrency.HangTimeout).AsTask()).ToList();

        signal.Set();
        signal.Clear();

        await Task.WhenAll(untimed).WaitAsync(Concurrency.HangTimeout);
        Assert.All(await Task.WhenAll(timed).WaitAsync(Concurrency.HangTimeout), Assert.True);
        Assert.False(signal.IsSet);
    }

    [Fact(Timeout = 30_000)]
    public async Task Set_SyncAndAsyncWaiters_WakesEveryOne()
    {
        var signal = new Event();
        var threads = Enumerable.Range(0, 3).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            signal.Wait();
        })).ToList();
        var tasks = Enumerable.Range(0, 3).Select(_ => signal.WaitAsync().AsTask()).ToList();
        threads.ForEach(thread => thread.WaitEntering());
        threads.ForEach(thread => thread.AssertStaysBlocked());
        Assert.All(tasks, task => Assert.False(task.IsCompleted));

        signal.Set();

        threads.ForEach(thread => thread.AssertCompleted());
        await Task.WhenAll(tasks).WaitAsync(Concurrency.HangTimeout);
        Assert.True(signal.IsSet);
    }

    [Fact(Timeout = 30_000)]
    public async Task Wait_AfterClear_BlocksAgain()
    {
        await Task.Yield();
        var signal = new Event();
        signal.Set();
        signal.Clear();

        Assert.False(signal.Wait(TimeSpan.FromMilliseconds(20)));
        Assert.False(Concurrency.CompletedResult(signal.WaitAsync(TimeSpan.Zero)));
    }

    [Fact(Timeout = 30_000)]
    public async Task Wait_NegativeTimeoutWhileSet_ThrowsArgumentOutOfRange()
    {
        await Task.Yield();
        var signal = new Event(initialState: true);

        Assert.Throws<ArgumentOutOfRangeException>(() => signal.Wait(NegativeTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => signal.Wait(TimeSpan.FromSeconds(-100)));

        Assert.True(signal.IsSet);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAsync_NegativeTimeoutWhileSet_ThrowsArgumentOutOfRange()
    {
        var signal = new Event(initialState: true);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await signal.WaitAsync(NegativeTimeout));

        Assert.True(signal.IsSet);
    }

    [Fact(Timeout = 30_000)]
    public async Task Wait_InfiniteTimeout_WaitsForSet()
    {
        await Task.Yield();
        var signal = new Event();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return signal.Wait(Timeout.InfiniteTimeSpan);
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        signal.Set();

        Assert.True(waiter.Result<bool>());
    }

    [Fact(Timeout = 30_000)]
    public async Task Wait_PreCancelledWhileUnset_ThrowsLeavingTheEventUnset()
    {
        await Task.Yield();
        var signal = new Event();

        Assert.ThrowsAny<OperationCanceledException>(() => signal.Wait(Concurrency.CancelledToken()));
        Assert.ThrowsAny<OperationCanceledException>(() => signal.Wait(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));

        Assert.False(signal.IsSet);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAsync_PreCancelledWhileUnset_ThrowsLeavingTheEventUnset()
    {
        var signal = new Event();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await signal.WaitAsync(Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await signal.WaitAsync(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));

        Assert.False(signal.IsSet);
    }

    [Fact(Timeout = 30_000)]
    public async Task Wait_CancelledWhileWaiting_ThrowsAndOtherWaitersStillWake()
    {
        await Task.Yield();
        var signal = new Event();
        using var cancellation = new CancellationTokenSource();
        var cancelled = Waiter.Start(waiter =>
        {
            waiter.Enter();
            signal.Wait(cancellation.Token);
        });
        var other = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return signal.Wait(Concurrency.HangTimeout);
        });
        cancelled.WaitEntering();
        other.WaitEntering();
        cancelled.AssertStaysBlocked();

        cancellation.Cancel();

        cancelled.AssertFails<OperationCanceledException>();
        Assert.False(signal.IsSet);
        other.AssertStaysBlocked();
        signal.Set();
        Assert.True(other.Result<bool>());
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAsync_CancelledWhileWaiting_ThrowsAndOtherWaitersStillWake()
    {
        var signal = new Event();
        using var cancellation = new CancellationTokenSource();
        var cancelled = signal.WaitAsync(cancellation.Token).AsTask();
        var timedCancelled = signal.WaitAsync(TimeSpan.FromSeconds(30), cancellation.Token).AsTask();
        var other = signal.WaitAsync().AsTask();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => timedCancelled.WaitAsync(Concurrency.HangTimeout));
        Assert.False(signal.IsSet);
        Assert.False(other.IsCompleted);
        signal.Set();
        await other.WaitAsync(Concurrency.HangTimeout);
    }

    private static void CheckNotify(Event signal)
    {
        var returned = 0;
        var waiters = Enumerable.Range(0, 5).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            signal.Wait();
            Interlocked.Increment(ref returned);
            var second = signal.Wait(Concurrency.HangTimeout);
            Interlocked.Increment(ref returned);
            return second;
        })).ToList();
        waiters.ForEach(waiter => waiter.WaitEntering());
        waiters.ForEach(waiter => waiter.AssertStaysBlocked());
        Assert.Equal(0, Volatile.Read(ref returned));

        signal.Set();

        Assert.All(waiters, waiter => Assert.True(waiter.Result<bool>()));
        Assert.Equal(10, returned);
    }
}
