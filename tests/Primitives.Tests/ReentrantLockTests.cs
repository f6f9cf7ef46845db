using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class ReentrantLockTests
{
    // test_constructor
    [Fact(Timeout = 30_000)]
    public async Task Constructor_NewLock_IsNotHeld()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        Assert.False(reentrantLock.IsHeldByCurrentThread);
        Assert.Equal(0, reentrantLock.RecursionCount);
    }

    // test_acquire_destroy
    [Fact(Timeout = 30_000)]
    public async Task Acquire_DroppedWithoutRelease_StaysHeld()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        reentrantLock.Acquire();

        Assert.True(reentrantLock.IsHeldByCurrentThread);
    }

    // test_acquire_release
    [Fact(Timeout = 30_000)]
    public async Task AcquireRelease_Uncontended_TogglesOwnership()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        reentrantLock.Acquire();
        Assert.True(reentrantLock.IsHeldByCurrentThread);
        reentrantLock.Release();

        Assert.False(reentrantLock.IsHeldByCurrentThread);
        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(reentrantLock.TryAcquire)));
    }

    // test_try_acquire
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_FreeLock_ReturnsTrue()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        Assert.True(reentrantLock.TryAcquire());
        Assert.Equal(1, reentrantLock.RecursionCount);
    }

    // test_try_acquire_contended
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_HeldByAnotherThread_ReturnsFalse()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();

        Assert.False(Concurrency.AssertCompletes(Concurrency.Run(reentrantLock.TryAcquire)));
        Assert.False(Concurrency.AssertCompletes(Concurrency.Run(() => reentrantLock.TryAcquire(TimeSpan.Zero))));
        Assert.Equal(1, reentrantLock.RecursionCount);
    }

    // test_acquire_contended
    [Fact(Timeout = 30_000)]
    public async Task Acquire_Contended_BlocksEveryWaiterUntilFullyReleased()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();
        reentrantLock.Acquire();
        var finished = 0;
        var waiters = Enumerable.Range(0, 5).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            reentrantLock.Acquire();
            reentrantLock.Release();
            Interlocked.Increment(ref finished);
        })).ToList();
        waiters.ForEach(waiter => waiter.WaitEntering());
        waiters.ForEach(waiter => waiter.AssertStaysBlocked());

        reentrantLock.Release();
        waiters.ForEach(waiter => waiter.AssertStaysBlocked());
        Assert.Equal(0, Volatile.Read(ref finished));
        reentrantLock.Release();

        waiters.ForEach(waiter => waiter.AssertCompleted());
        Assert.Equal(5, finished);
        Assert.True(reentrantLock.TryAcquire());
    }

    // test_with
    [Fact(Timeout = 30_000)]
    public async Task Lock_Scope_HoldsTheLockUntilDisposedAndNests()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        using (reentrantLock.Lock())
        {
            Assert.True(reentrantLock.IsHeldByCurrentThread);
            using (reentrantLock.Lock())
            {
                Assert.Equal(2, reentrantLock.RecursionCount);
            }

            Assert.Equal(1, reentrantLock.RecursionCount);
            Assert.False(Concurrency.AssertCompletes(Concurrency.Run(reentrantLock.TryAcquire)));
        }

        Assert.False(reentrantLock.IsHeldByCurrentThread);
        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(() =>
        {
            var acquired = reentrantLock.TryAcquire();
            reentrantLock.Release();
            return acquired;
        })));
    }

    // test_with (the body raises)
    [Fact(Timeout = 30_000)]
    public async Task Lock_BodyThrows_ReleasesAndPropagates()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        Assert.Throws<DivideByZeroException>(void () =>
        {
            using (reentrantLock.Lock())
            {
                throw new DivideByZeroException();
            }
        });

        Assert.Equal(0, reentrantLock.RecursionCount);
        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(reentrantLock.TryAcquire)));
    }

    // test_timeout
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_NegativeTimeoutOnFreeLock_ThrowsArgumentOutOfRange()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        Assert.Throws<ArgumentOutOfRangeException>(() => reentrantLock.TryAcquire(TimeSpan.FromMilliseconds(-2)));

        Assert.False(reentrantLock.IsHeldByCurrentThread);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_NegativeTimeoutByOwner_ThrowsArgumentOutOfRange()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();

        Assert.Throws<ArgumentOutOfRangeException>(() => reentrantLock.TryAcquire(TimeSpan.FromSeconds(-100)));

        Assert.Equal(1, reentrantLock.RecursionCount);
    }

    // test_timeout
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_TimeoutWhileHeldElsewhere_ReturnsFalseAfterTheTimeout()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();
        var timeout = TimeSpan.FromMilliseconds(200);

        var result = Concurrency.AssertCompletes(Concurrency.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var acquired = reentrantLock.TryAcquire(timeout);
            return (acquired, clock.Elapsed);
        }));

        Assert.False(result.acquired);
        Concurrency.AssertDuration(result.Elapsed, timeout);
        Assert.Equal(1, reentrantLock.RecursionCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_InfiniteTimeoutWhileHeldElsewhere_WaitsForRelease()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            var acquired = reentrantLock.TryAcquire(Timeout.InfiniteTimeSpan);
            var count = reentrantLock.RecursionCount;
            reentrantLock.Release();
            return acquired && count == 1;
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        reentrantLock.Release();

        Assert.True(waiter.Result<bool>());
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_ByOwnerWithZeroTimeout_Reenters()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();

        Assert.True(reentrantLock.TryAcquire(TimeSpan.Zero));
        Assert.True(reentrantLock.TryAcquire());

        Assert.Equal(3, reentrantLock.RecursionCount);
    }

    // RLockTests.test_reacquire
    [Fact(Timeout = 30_000)]
    public async Task Acquire_ByOwner_ReentersWithoutBlocking()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        reentrantLock.Acquire();
        reentrantLock.Acquire();
        reentrantLock.Release();
        reentrantLock.Acquire();
        reentrantLock.Release();
        reentrantLock.Release();

        Assert.False(reentrantLock.IsHeldByCurrentThread);
    }

    // RLockTests.test_release_unacquired
    [Fact(Timeout = 30_000)]
    public async Task Release_Unacquired_ThrowsSynchronizationLockException()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        Assert.Throws<SynchronizationLockException>(reentrantLock.Release);

        reentrantLock.Acquire();
        reentrantLock.Acquire();
        reentrantLock.Release();
        reentrantLock.Acquire();
        reentrantLock.Release();
        reentrantLock.Release();
        Assert.Throws<SynchronizationLockException>(reentrantLock.Release);
        Assert.Equal(0, reentrantLock.RecursionCount);
    }

    // RLockTests.test_recursion_count
    [Fact(Timeout = 30_000)]
    public async Task RecursionCount_TracksTheOwnersDepthAndIsZeroForOthers()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        Assert.Equal(0, reentrantLock.RecursionCount);

        reentrantLock.Acquire();
        Assert.Equal(1, reentrantLock.RecursionCount);
        reentrantLock.Acquire();
        reentrantLock.Acquire();
        Assert.Equal(3, reentrantLock.RecursionCount);
        reentrantLock.Release();
        Assert.Equal(2, reentrantLock.RecursionCount);
        reentrantLock.Release();
        reentrantLock.Release();
        Assert.Equal(0, reentrantLock.RecursionCount);

        using var held = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var owner = Concurrency.Run(() =>
        {
            reentrantLock.Acquire();
            held.Set();
            Assert.True(done.Wait(Concurrency.HangTimeout));
            reentrantLock.Release();
        });
        Assert.True(held.Wait(Concurrency.HangTimeout));
        Assert.Equal(0, reentrantLock.RecursionCount);
        Assert.False(reentrantLock.IsHeldByCurrentThread);
        done.Set();
        Concurrency.AssertCompletes(owner);
    }

    // RLockTests.test_different_thread
    [Fact(Timeout = 30_000)]
    public async Task Release_ByNonOwner_ThrowsSynchronizationLockException()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        using var held = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var owner = Concurrency.Run(() =>
        {
            reentrantLock.Acquire();
            held.Set();
            Assert.True(done.Wait(Concurrency.HangTimeout));
            reentrantLock.Release();
            return reentrantLock.RecursionCount;
        });
        Assert.True(held.Wait(Concurrency.HangTimeout));

        Assert.Throws<SynchronizationLockException>(reentrantLock.Release);

        done.Set();
        Assert.Equal(0, Concurrency.AssertCompletes(owner));
        Assert.True(reentrantLock.TryAcquire());
    }

    // RLockTests.test__is_owned
    [Fact(Timeout = 30_000)]
    public async Task IsHeldByCurrentThread_TrueOnlyForTheOwnerWhileHeld()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        Assert.False(reentrantLock.IsHeldByCurrentThread);

        reentrantLock.Acquire();
        Assert.True(reentrantLock.IsHeldByCurrentThread);
        reentrantLock.Acquire();
        Assert.True(reentrantLock.IsHeldByCurrentThread);
        Assert.False(Concurrency.AssertCompletes(Concurrency.Run(() => reentrantLock.IsHeldByCurrentThread)));
        reentrantLock.Release();
        Assert.True(reentrantLock.IsHeldByCurrentThread);
        reentrantLock.Release();

        Assert.False(reentrantLock.IsHeldByCurrentThread);
    }

    [Fact(Timeout = 30_000)]
    public async Task Acquire_PreCancelledWhileHeldElsewhere_Throws()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();

        var result = Concurrency.Run(() =>
        {
            Assert.ThrowsAny<OperationCanceledException>(() => reentrantLock.Acquire(Concurrency.CancelledToken()));
            Assert.ThrowsAny<OperationCanceledException>(() => reentrantLock.TryAcquire(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));
            return reentrantLock.RecursionCount;
        });

        Assert.Equal(0, Concurrency.AssertCompletes(result));
        Assert.Equal(1, reentrantLock.RecursionCount);
    }
}
