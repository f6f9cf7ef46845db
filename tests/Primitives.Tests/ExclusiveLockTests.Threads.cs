using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class ExclusiveLockTests
{
    // LockTests.test_different_thread
    [Fact(Timeout = 30_000)]
    public async Task Release_ByAnotherThread_UnlocksTheLock()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        Concurrency.AssertCompletes(Concurrency.Run(exclusiveLock.Release));

        Assert.False(exclusiveLock.IsLocked);
        exclusiveLock.Acquire();
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task Release_AfterAwaitOnAnotherThread_UnlocksTheLock()
    {
        var exclusiveLock = new ExclusiveLock();
        await exclusiveLock.AcquireAsync();

        await Task.Run(exclusiveLock.Release).WaitAsync(Concurrency.HangTimeout);

        Assert.False(exclusiveLock.IsLocked);
    }

    // LockTests.test_state_after_timeout
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_TimedOut_LeavesNoResidue()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        Assert.False(Concurrency.AssertCompletes(Concurrency.Run(() => exclusiveLock.TryAcquire(TimeSpan.FromMilliseconds(10)))));
        exclusiveLock.Release();

        Assert.False(exclusiveLock.IsLocked);
        Assert.True(exclusiveLock.TryAcquire());
    }

    [Fact(Timeout = 30_000)]
    public async Task Release_Unlocked_ThrowsSynchronizationLockException()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.Throws<SynchronizationLockException>(exclusiveLock.Release);

        exclusiveLock.Acquire();
        exclusiveLock.Release();
        Assert.Throws<SynchronizationLockException>(exclusiveLock.Release);
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task Acquire_PreCancelledWhileHeld_ThrowsAndLeavesHolder()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        Assert.ThrowsAny<OperationCanceledException>(() => exclusiveLock.Acquire(Concurrency.CancelledToken()));
        Assert.ThrowsAny<OperationCanceledException>(() => exclusiveLock.TryAcquire(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));

        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_PreCancelledWhileHeld_ThrowsAndLeavesHolder()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await exclusiveLock.AcquireAsync(Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await exclusiveLock.TryAcquireAsync(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await exclusiveLock.LockAsync(Concurrency.CancelledToken()));

        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task Acquire_CancelledWhileWaiting_ThrowsAndNeverTakesTheLock()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        using var cancellation = new CancellationTokenSource();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            exclusiveLock.Acquire(cancellation.Token);
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        cancellation.Cancel();

        waiter.AssertFails<OperationCanceledException>();
        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
        Assert.True(exclusiveLock.TryAcquire());
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_CancelledWhileWaiting_ThrowsAndNeverTakesTheLock()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        using var cancellation = new CancellationTokenSource();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return exclusiveLock.TryAcquire(TimeSpan.FromSeconds(30), cancellation.Token);
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        cancellation.Cancel();

        waiter.AssertFails<OperationCanceledException>();
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_CancelledWhileWaiting_ThrowsAndPassesTheLockToTheNextWaiter()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        using var cancellation = new CancellationTokenSource();
        var cancelled = exclusiveLock.AcquireAsync(cancellation.Token).AsTask();
        var next = exclusiveLock.AcquireAsync().AsTask();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));
        Assert.False(next.IsCompleted);
        exclusiveLock.Release();
        await next.WaitAsync(Concurrency.HangTimeout);
        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_CancelledWhileWaiting_ThrowsAndNeverTakesTheLock()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        using var cancellation = new CancellationTokenSource();
        var cancelled = exclusiveLock.TryAcquireAsync(TimeSpan.FromSeconds(30), cancellation.Token).AsTask();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_TimedOutInTheMiddleOfTheQueue_LaterWaitersStillServed()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var timedOut = exclusiveLock.TryAcquireAsync(TimeSpan.FromMilliseconds(20)).AsTask();
        var next = exclusiveLock.AcquireAsync().AsTask();

        Assert.False(await timedOut.WaitAsync(Concurrency.HangTimeout));
        exclusiveLock.Release();

        await next.WaitAsync(Concurrency.HangTimeout);
        Assert.True(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_SeveralWaiters_ServedInArrivalOrder()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var order = new List<int>();
        var waiters = Enumerable.Range(0, 5).Select(async index =>
        {
            await exclusiveLock.AcquireAsync();
            lock (order)
            {
                order.Add(index);
            }

            exclusiveLock.Release();
        }).ToList();

        exclusiveLock.Release();
        await Task.WhenAll(waiters).WaitAsync(Concurrency.HangTimeout);

        Assert.Equal([0, 1, 2, 3, 4], order);
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task Acquire_SeveralThreads_ServedInArrivalOrder()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var order = new List<int>();
        var waiters = new List<Waiter>();
        for (var index = 0; index < 4; index++)
        {
            var id = index;
            var waiter = Waiter.Start(waiter =>
            {
                waiter.Enter();
                exclusiveLock.Acquire();
                lock (order)
                {
                    order.Add(id);
                }

                exclusiveLock.Release();
            });
            waiter.WaitParked();
            waiters.Add(waiter);
        }

        exclusiveLock.Release();

        waiters.ForEach(waiter => waiter.AssertCompleted());
        Assert.Equal([0, 1, 2, 3], order);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_SyncAndAsyncWaiters_ServedInArrivalOrder()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var order = new List<string>();
        var first = exclusiveLock.AcquireAsync().AsTask();
        var thread = Waiter.Start(waiter =>
        {
            waiter.Enter();
            exclusiveLock.Acquire();
            lock (order)
            {
                order.Add("sync");
            }

            exclusiveLock.Release();
        });
        thread.WaitParked();
        var last = exclusiveLock.AcquireAsync().AsTask();

        exclusiveLock.Release();
        await first.WaitAsync(Concurrency.HangTimeout);
        lock (order)
        {
            order.Add("async-1");
        }

        Assert.False(last.IsCompleted);
        exclusiveLock.Release();
        await last.WaitAsync(Concurrency.HangTimeout);
        lock (order)
        {
            order.Add("async-2");
        }

        exclusiveLock.Release();
        thread.AssertCompleted();
        Assert.Equal(["async-1", "sync", "async-2"], order);
    }
}
