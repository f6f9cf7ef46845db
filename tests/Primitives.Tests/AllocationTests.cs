using System.Diagnostics;
namespace Pipeline.Primitives.Tests;

/// <summary>
/// The uncontended paths allocate nothing: each scenario is warmed up, then run
/// <see cref="Iterations"/> times while the calling thread's allocations are measured.
/// </summary>
public class AllocationTests
{
    private const int Iterations = 1_000;

    [Fact(Timeout = 30_000)]
    public async Task ExclusiveLock_AcquireRelease_AllocatesNothing()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        AssertAllocatesNothing(() =>
        {
            exclusiveLock.Acquire();
            exclusiveLock.Release();
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task ExclusiveLock_AcquireAsyncRelease_AllocatesNothing()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        AssertAllocatesNothing(() =>
        {
            Completed(exclusiveLock.AcquireAsync());
            exclusiveLock.Release();
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task ExclusiveLock_TryAcquireRelease_AllocatesNothing()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        AssertAllocatesNothing(() =>
        {
            Check(exclusiveLock.TryAcquire());
            exclusiveLock.Release();
            Check(exclusiveLock.TryAcquire(TimeSpan.FromSeconds(1)));
            exclusiveLock.Release();
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task ExclusiveLock_TryAcquireAsyncRelease_AllocatesNothing()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        AssertAllocatesNothing(() =>
        {
            Check(CompletedResult(exclusiveLock.TryAcquireAsync(TimeSpan.FromSeconds(1))));
            exclusiveLock.Release();
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task ExclusiveLock_LockScopes_AllocateNothing()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        AssertAllocatesNothing(() =>
        {
            using (exclusiveLock.Lock())
            {
            }

            using (CompletedResult(exclusiveLock.LockAsync()))
            {
            }
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task ReentrantLock_AcquireRelease_AllocatesNothing()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();

        AssertAllocatesNothing(() =>
        {
            reentrantLock.Acquire();
            reentrantLock.Acquire();
            Check(reentrantLock.TryAcquire());
            reentrantLock.Release();
            reentrantLock.Release();
            reentrantLock.Release();
            using (reentrantLock.Lock())
            {
            }
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task CountingSemaphore_AcquireRelease_AllocatesNothing()
    {
        await Task.Yield();
        AssertSemaphoreAllocatesNothing(new CountingSemaphore(1));
    }

    [Fact(Timeout = 30_000)]
    public async Task BoundedSemaphore_AcquireRelease_AllocatesNothing()
    {
        await Task.Yield();
        AssertSemaphoreAllocatesNothing(new BoundedSemaphore(1));
    }

    [Fact(Timeout = 30_000)]
    public async Task Event_SetAndWaitWhileSet_AllocatesNothing()
    {
        await Task.Yield();
        var signal = new Event();
        signal.Set();

        AssertAllocatesNothing(() =>
        {
            signal.Set();
            signal.Wait();
            Check(signal.Wait(TimeSpan.FromSeconds(1)));
            Completed(signal.WaitAsync());
            Check(CompletedResult(signal.WaitAsync(TimeSpan.FromSeconds(1))));
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task Condition_LockMembersUncontended_AllocateNothing()
    {
        await Task.Yield();
        var condition = new Condition();

        AssertAllocatesNothing(() =>
        {
            condition.Acquire();
            condition.Release();
            Completed(condition.AcquireAsync());
            condition.Release();
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task BoundedQueue_PutAndTakeUncontended_AllocateNothing()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(4);

        AssertAllocatesNothing(() =>
        {
            queue.Put(1);
            Check(queue.TryPut(2));
            Completed(queue.PutAsync(3));
            Check(queue.Take() == 1);
            Check(queue.TryTake(out _));
            Check(CompletedResult(queue.TakeAsync()) == 3);
        });
    }

    // Issue 3: async waiters are pooled IValueTaskSource nodes, no allocation per wait in steady state.
    // Release only: the woken waiter takes the lock in an async method, whose Debug state machine is a class.
    [OptimizedBuildFact(Timeout = 30_000)]
    public async Task ExclusiveLock_AcquireAsyncWaitingThenGranted_AllocatesNothingInSteadyState()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        AssertAllocatesNothing(() =>
        {
            exclusiveLock.Acquire();
            var pending = exclusiveLock.AcquireAsync();
            Check(!pending.IsCompleted);
            exclusiveLock.Release();

            // The release wakes the waiter, whose continuation takes the lock on the thread pool.
            CompletesEventually(pending);
            exclusiveLock.Release();
        });
    }

    [Fact(Timeout = 30_000)]
    public async Task CountingSemaphore_AcquireAsyncWaitingThenGranted_AllocatesNothingInSteadyState()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);

        AssertAllocatesNothing(() =>
        {
            var pending = semaphore.AcquireAsync();
            Check(!pending.IsCompleted);
            semaphore.Release();
            Completed(pending);
        });
    }

    private static void AssertSemaphoreAllocatesNothing(CountingSemaphore semaphore) =>
        AssertAllocatesNothing(() =>
        {
            semaphore.Acquire();
            semaphore.Release();
            Completed(semaphore.AcquireAsync());
            semaphore.Release();
            Check(semaphore.TryAcquire());
            semaphore.Release();
            Check(semaphore.TryAcquire(TimeSpan.FromSeconds(1)));
            semaphore.Release();
            Check(CompletedResult(semaphore.TryAcquireAsync(TimeSpan.FromSeconds(1))));
            semaphore.Release();
        });

    // The checks inside a measured scenario must not allocate themselves, as xunit's asserts may.
    private static void Check(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("The uncontended call did not succeed.");
        }
    }

    private static void Completed(ValueTask pending)
    {
        Check(pending.IsCompletedSuccessfully);
        pending.GetAwaiter().GetResult();
    }

    private static void CompletesEventually(ValueTask pending)
    {
        var giveUpAt = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        var spinner = default(SpinWait);
        while (!pending.IsCompleted && Stopwatch.GetTimestamp() < giveUpAt)
        {
            spinner.SpinOnce();
        }

        Completed(pending);
    }

    private static T CompletedResult<T>(ValueTask<T> pending)
    {
        Check(pending.IsCompletedSuccessfully);
        return pending.Result;
    }

    private static void AssertAllocatesNothing(Action scenario)
    {
        for (var i = 0; i < Iterations; i++)
        {
            scenario();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Iterations; i++)
        {
            scenario();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{Iterations} iterations allocated {allocated} bytes.");
    }
}
