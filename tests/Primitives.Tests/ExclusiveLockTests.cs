using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class ExclusiveLockTests
{
    private static readonly TimeSpan NegativeTimeout = TimeSpan.FromMilliseconds(-2);

    // test_constructor
    [Fact(Timeout = 30_000)]
    public async Task Constructor_NewLock_IsUnlocked()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.False(exclusiveLock.IsLocked);
    }

    // test_acquire_destroy
    [Fact(Timeout = 30_000)]
    public async Task Acquire_DroppedWithoutRelease_StaysLocked()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        exclusiveLock.Acquire();

        Assert.True(exclusiveLock.IsLocked);
    }

    // test_acquire_release
    [Fact(Timeout = 30_000)]
    public async Task AcquireRelease_Uncontended_TogglesIsLocked()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        exclusiveLock.Acquire();
        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();

        Assert.False(exclusiveLock.IsLocked);
    }

    // test_try_acquire
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_FreeLock_ReturnsTrueAndLocks()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.True(exclusiveLock.TryAcquire());
        Assert.True(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_HeldLock_ReturnsFalse()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        Assert.False(exclusiveLock.TryAcquire());
        Assert.True(exclusiveLock.IsLocked);
    }

    // test_try_acquire_contended
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_HeldByAnotherThread_ReturnsFalse()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        var result = Concurrency.AssertCompletes(Concurrency.Run(exclusiveLock.TryAcquire));

        Assert.False(result);
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    // test_acquire_contended
    [Fact(Timeout = 30_000)]
    public async Task Acquire_Contended_BlocksEveryWaiterUntilRelease()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var finished = 0;
        var waiters = Enumerable.Range(0, 5).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            exclusiveLock.Acquire();
            exclusiveLock.Release();
            Interlocked.Increment(ref finished);
        })).ToList();
        waiters.ForEach(waiter => waiter.WaitEntering());

        waiters.ForEach(waiter => waiter.AssertStaysBlocked());
        Assert.Equal(0, Volatile.Read(ref finished));

        exclusiveLock.Release();

        waiters.ForEach(waiter => waiter.AssertCompleted());
        Assert.Equal(5, finished);
        Assert.False(exclusiveLock.IsLocked);
    }

    // test_with
    [Fact(Timeout = 30_000)]
    public async Task Lock_Scope_HoldsTheLockUntilDisposed()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        using (exclusiveLock.Lock())
        {
            Assert.True(exclusiveLock.IsLocked);
            Assert.False(Concurrency.AssertCompletes(Concurrency.Run(exclusiveLock.TryAcquire)));
        }

        Assert.False(exclusiveLock.IsLocked);
        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(exclusiveLock.TryAcquire)));
    }

    // test_with (the body raises)
    [Fact(Timeout = 30_000)]
    public async Task Lock_BodyThrows_ReleasesAndPropagates()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.Throws<DivideByZeroException>(void () =>
        {
            using (exclusiveLock.Lock())
            {
                throw new DivideByZeroException();
            }
        });

        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task LockAsync_Scope_HoldsTheLockUntilDisposed()
    {
        var exclusiveLock = new ExclusiveLock();

        using (await exclusiveLock.LockAsync())
        {
            Assert.True(exclusiveLock.IsLocked);
            await Task.Yield();
            Assert.True(exclusiveLock.IsLocked);
        }

        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task LockAsync_Contended_CompletesWhenTheHolderReleases()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        var pending = exclusiveLock.LockAsync().AsTask();
        Assert.False(pending.IsCompleted);
        exclusiveLock.Release();

        using (await pending.WaitAsync(Concurrency.HangTimeout))
        {
            Assert.True(exclusiveLock.IsLocked);
        }

        Assert.False(exclusiveLock.IsLocked);
    }

    // test_timeout (argument checks)
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_NegativeTimeoutOnFreeLock_ThrowsArgumentOutOfRange()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.Throws<ArgumentOutOfRangeException>(() => exclusiveLock.TryAcquire(NegativeTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => exclusiveLock.TryAcquire(TimeSpan.FromSeconds(-100)));

        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_NegativeTimeoutOnFreeLock_ThrowsArgumentOutOfRange()
    {
        var exclusiveLock = new ExclusiveLock();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await exclusiveLock.TryAcquireAsync(NegativeTimeout));

        Assert.False(exclusiveLock.IsLocked);
    }

    // test_timeout (a free lock is taken at once)
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_LongTimeoutOnFreeLock_ReturnsTrueAtOnce()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var clock = Stopwatch.StartNew();

        Assert.True(exclusiveLock.TryAcquire(TimeSpan.FromSeconds(5)));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.True(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_InfiniteTimeoutOnFreeLock_ReturnsTrue()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.True(exclusiveLock.TryAcquire(Timeout.InfiniteTimeSpan));
        Assert.True(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_InfiniteTimeoutWhileHeld_WaitsForRelease()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return exclusiveLock.TryAcquire(Timeout.InfiniteTimeSpan);
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        exclusiveLock.Release();

        Assert.True(waiter.Result<bool>());
        Assert.True(exclusiveLock.IsLocked);
    }

    // test_timeout (a held lock times out)
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_TimeoutWhileHeld_ReturnsFalseAfterTheTimeout()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var timeout = TimeSpan.FromMilliseconds(200);

        var result = Concurrency.AssertCompletes(Concurrency.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var acquired = exclusiveLock.TryAcquire(timeout);
            return (acquired, clock.Elapsed);
        }));

        Assert.False(result.acquired);
        Concurrency.AssertDuration(result.Elapsed, timeout);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_TimeoutWhileHeld_ReturnsFalseAfterTheTimeout()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var timeout = TimeSpan.FromMilliseconds(200);
        var clock = Stopwatch.StartNew();

        var acquired = await exclusiveLock.TryAcquireAsync(timeout).AsTask().WaitAsync(Concurrency.HangTimeout);

        Assert.False(acquired);
        Concurrency.AssertDuration(clock.Elapsed, timeout);
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_ZeroTimeoutWhileHeld_ReturnsFalseWithoutWaiting()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        var result = Concurrency.AssertCompletes(Concurrency.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var acquired = exclusiveLock.TryAcquire(TimeSpan.Zero);
            return (acquired, clock.Elapsed);
        }));

        Assert.False(result.acquired);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(1));
        Assert.True(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_ZeroTimeoutOnFreeLock_ReturnsTrue()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.True(exclusiveLock.TryAcquire(TimeSpan.Zero));
        Assert.True(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_ZeroTimeoutWhileHeld_CompletesSynchronouslyWithFalse()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        Assert.False(Concurrency.CompletedResult(exclusiveLock.TryAcquireAsync(TimeSpan.Zero)));
        Assert.True(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_Uncontended_CompletesSynchronously()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Concurrency.Completed(exclusiveLock.AcquireAsync());

        Assert.True(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_Uncontended_CompletesSynchronouslyWithTrue()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.True(Concurrency.CompletedResult(exclusiveLock.TryAcquireAsync(TimeSpan.FromSeconds(1))));
        Assert.True(exclusiveLock.IsLocked);
    }

    // LockTests.test_reacquire
    [Fact(Timeout = 30_000)]
    public async Task Acquire_TwiceOnOneThread_BlocksUntilAnotherThreadReleases()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var waiter = Waiter.Start(waiter =>
        {
            exclusiveLock.Acquire();
            waiter.Enter();
            exclusiveLock.Acquire();
            exclusiveLock.Release();
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        exclusiveLock.Release();

        waiter.AssertCompleted();
        Assert.False(exclusiveLock.IsLocked);
    }
}
