using System.Diagnostics;
using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives.Tests;

/// <summary>
/// The contract shared by <see cref="CountingSemaphore"/> and <see cref="BoundedSemaphore"/>
/// (CPython's BaseSemaphoreTests), run once per type by the derived test classes.
/// </summary>
public abstract partial class SemaphoreTestBase
{
    private static readonly TimeSpan NegativeTimeout = TimeSpan.FromMilliseconds(-2);

    /// <summary>Creates the semaphore under test, with room above <paramref name="initialCount"/> for releases.</summary>
    protected abstract CountingSemaphore Create(int initialCount);

    /// <summary>Creates the semaphore under test with its default arguments.</summary>
    protected abstract CountingSemaphore CreateDefault();

    // test_constructor
    [Theory(Timeout = 30_000)]
    [InlineData(-1)]
    [InlineData(int.MinValue + 1)]
    public async Task Constructor_NegativeInitialCount_ThrowsArgumentOutOfRangeNamingIt(int initialCount)
    {
        await Task.Yield();
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => Create(initialCount));

        Assert.Equal("initialCount", exception.ParamName);
    }

    [Fact(Timeout = 30_000)]
    public async Task Constructor_ZeroInitialCount_HasNoPermits()
    {
        await Task.Yield();
        var semaphore = Create(0);

        Assert.Equal(0, semaphore.CurrentCount);
        Assert.False(semaphore.TryAcquire());
    }

    // test_acquire
    [Fact(Timeout = 30_000)]
    public async Task AcquireRelease_WithinTheCount_AdjustsCurrentCount()
    {
        await Task.Yield();
        var single = Create(1);
        single.Acquire();
        Assert.Equal(0, single.CurrentCount);
        single.Release();
        Assert.Equal(1, single.CurrentCount);

        var pair = Create(2);
        pair.Acquire();
        pair.Acquire();
        Assert.Equal(0, pair.CurrentCount);
        pair.Release();
        pair.Release();
        Assert.Equal(2, pair.CurrentCount);
    }

    // test_acquire_destroy
    [Fact(Timeout = 30_000)]
    public async Task Acquire_DroppedWithoutRelease_KeepsThePermitTaken()
    {
        await Task.Yield();
        var semaphore = Create(1);

        semaphore.Acquire();

        Assert.Equal(0, semaphore.CurrentCount);
    }

    // test_acquire_contended
    [Fact(Timeout = 30_000)]
    public async Task Acquire_Contended_ReleaseLetsExactlyThatManyThrough()
    {
        await Task.Yield();
        var semaphore = Create(7);
        semaphore.Acquire();
        var acquired = 0;
        var workers = Enumerable.Range(0, 10).Select(_ => Concurrency.Run(() =>
        {
            semaphore.Acquire();
            Interlocked.Increment(ref acquired);
            semaphore.Acquire();
            Interlocked.Increment(ref acquired);
        })).ToArray();

        AssertSettlesAt(semaphore, workers, () => Volatile.Read(ref acquired), 6);
        for (var i = 0; i < 7; i++)
        {
            semaphore.Release();
        }

        AssertSettlesAt(semaphore, workers, () => Volatile.Read(ref acquired), 13);
        for (var i = 0; i < 6; i++)
        {
            semaphore.Release();
        }

        AssertSettlesAt(semaphore, workers, () => Volatile.Read(ref acquired), 19);
        Assert.False(semaphore.TryAcquire());
        semaphore.Release();

        Concurrency.AssertCompletes(Task.WhenAll(workers));
        Assert.Equal(20, acquired);
        Assert.Equal(0, semaphore.CurrentCount);
    }

    // test_multirelease
    [Fact(Timeout = 30_000)]
    public async Task Release_Count_LetsExactlyThatManyWaitersThrough()
    {
        await Task.Yield();
        var semaphore = Create(7);
        semaphore.Acquire();
        var acquired = 0;
        var workers = Enumerable.Range(0, 10).Select(_ => Concurrency.Run(() =>
        {
            semaphore.Acquire();
            Interlocked.Increment(ref acquired);
            semaphore.Acquire();
            Interlocked.Increment(ref acquired);
        })).ToArray();

        AssertSettlesAt(semaphore, workers, () => Volatile.Read(ref acquired), 6);
        semaphore.Release(7);
        AssertSettlesAt(semaphore, workers, () => Volatile.Read(ref acquired), 13);
        semaphore.Release(6);
        AssertSettlesAt(semaphore, workers, () => Volatile.Read(ref acquired), 19);
        Assert.False(semaphore.TryAcquire());
        semaphore.Release();

        Concurrency.AssertCompletes(Task.WhenAll(workers));
        Assert.Equal(20, acquired);
        Assert.Equal(0, semaphore.CurrentCount);
    }

    // test_try_acquire
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_UntilExhausted_ReturnsFalseThenTrueAfterRelease()
    {
        await Task.Yield();
        var semaphore = Create(2);

        Assert.True(semaphore.TryAcquire());
        Assert.True(semaphore.TryAcquire());
        Assert.False(semaphore.TryAcquire());
        semaphore.Release();

        Assert.True(semaphore.TryAcquire());
        Assert.Equal(0, semaphore.CurrentCount);
    }

    // test_try_acquire_contended
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_ManyThreads_ExactlyTheFreePermitsAreTaken()
    {
        await Task.Yield();
        var semaphore = Create(4);
        semaphore.Acquire();
        var successes = 0;
        var failures = 0;
        var workers = Enumerable.Range(0, 5).Select(_ => Concurrency.Run(() =>
        {
            for (var i = 0; i < 2; i++)
            {
                Interlocked.Increment(ref semaphore.TryAcquire() ? ref successes : ref failures);
            }
        })).ToArray();

        Concurrency.AssertCompletes(Task.WhenAll(workers));

        Assert.Equal(3, successes);
        Assert.Equal(7, failures);
        Assert.Equal(0, semaphore.CurrentCount);
    }

    // test_acquire_timeout
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_Timeout_ReturnsTrueWhileAvailableAndFalseAfterTheTimeout()
    {
        await Task.Yield();
        var semaphore = Create(2);
        var shortTimeout = TimeSpan.FromMilliseconds(5);

        Assert.True(semaphore.TryAcquire(shortTimeout));
        Assert.True(semaphore.TryAcquire(shortTimeout));
        Assert.False(semaphore.TryAcquire(shortTimeout));
        semaphore.Release();
        Assert.True(semaphore.TryAcquire(shortTimeout));

        var timeout = TimeSpan.FromMilliseconds(200);
        var clock = Stopwatch.StartNew();
        Assert.False(semaphore.TryAcquire(timeout));
        Concurrency.AssertDuration(clock.Elapsed, timeout);
        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_Timeout_ReturnsFalseAfterTheTimeoutLeavingTheCount()
    {
        var semaphore = Create(0);
        var timeout = TimeSpan.FromMilliseconds(200);
        var clock = Stopwatch.StartNew();

        Assert.False(await semaphore.TryAcquireAsync(timeout).AsTask().WaitAsync(Concurrency.HangTimeout));

        Concurrency.AssertDuration(clock.Elapsed, timeout);
        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
    }

    // test_default_value
    [Fact(Timeout = 30_000)]
    public async Task Constructor_Default_HasOnePermit()
    {
        await Task.Yield();
        var semaphore = CreateDefault();
        Assert.Equal(1, semaphore.CurrentCount);
        semaphore.Acquire();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            semaphore.Acquire();
            semaphore.Release();
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        semaphore.Release();

        waiter.AssertCompleted();
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Theory(Timeout = 30_000)]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task Release_CountBelowOne_ThrowsArgumentOutOfRangeLeavingTheCount(int count)
    {
        await Task.Yield();
        var semaphore = Create(1);
        semaphore.Acquire();

        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Release(count));

        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_NegativeTimeoutWithPermitsFree_ThrowsArgumentOutOfRange()
    {
        await Task.Yield();
        var semaphore = Create(3);

        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.TryAcquire(NegativeTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.TryAcquire(TimeSpan.FromSeconds(-100)));

        Assert.Equal(3, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_NegativeTimeoutWithPermitsFree_ThrowsArgumentOutOfRange()
    {
        var semaphore = Create(3);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await semaphore.TryAcquireAsync(NegativeTimeout));

        Assert.Equal(3, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_ZeroTimeoutWithoutPermits_ReturnsFalseWithoutWaiting()
    {
        await Task.Yield();
        var semaphore = Create(0);
        var clock = Stopwatch.StartNew();

        Assert.False(semaphore.TryAcquire(TimeSpan.Zero));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        Assert.False(Concurrency.CompletedResult(semaphore.TryAcquireAsync(TimeSpan.Zero)));
        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_ZeroTimeoutWithPermits_TakesOne()
    {
        await Task.Yield();
        var semaphore = Create(2);

        Assert.True(semaphore.TryAcquire(TimeSpan.Zero));
        Assert.True(Concurrency.CompletedResult(semaphore.TryAcquireAsync(TimeSpan.Zero)));

        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_InfiniteTimeout_WaitsForARelease()
    {
        await Task.Yield();
        var semaphore = Create(0);
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return semaphore.TryAcquire(Timeout.InfiniteTimeSpan);
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        semaphore.Release();

        Assert.True(waiter.Result<bool>());
        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_PermitFree_CompletesSynchronously()
    {
        await Task.Yield();
        var semaphore = Create(2);

        Concurrency.Completed(semaphore.AcquireAsync());
        Assert.True(Concurrency.CompletedResult(semaphore.TryAcquireAsync(TimeSpan.FromSeconds(1))));

        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Acquire_PreCancelledWithoutPermits_ThrowsLeavingTheCount()
    {
        await Task.Yield();
        var semaphore = Create(0);

        Assert.ThrowsAny<OperationCanceledException>(() => semaphore.Acquire(Concurrency.CancelledToken()));
        Assert.ThrowsAny<OperationCanceledException>(() => semaphore.TryAcquire(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));

        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_PreCancelledWithoutPermits_ThrowsLeavingTheCount()
    {
        var semaphore = Create(0);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await semaphore.AcquireAsync(Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await semaphore.TryAcquireAsync(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));

        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
    }
}
