using System.Diagnostics;
using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives.Tests;

public abstract partial class SemaphoreTestBase
{
    [Fact(Timeout = 30_000)]
    public async Task Acquire_CancelledWhileWaiting_ThrowsAndTakesNoPermit()
    {
        await Task.Yield();
        var semaphore = Create(0);
        using var cancellation = new CancellationTokenSource();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            semaphore.Acquire(cancellation.Token);
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        cancellation.Cancel();

        waiter.AssertFails<OperationCanceledException>();
        Assert.Equal(0, semaphore.CurrentCount);
        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_CancelledWhileWaiting_ThrowsAndTakesNoPermit()
    {
        await Task.Yield();
        var semaphore = Create(0);
        using var cancellation = new CancellationTokenSource();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return semaphore.TryAcquire(TimeSpan.FromSeconds(30), cancellation.Token);
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        cancellation.Cancel();

        waiter.AssertFails<OperationCanceledException>();
        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_CancelledWhileWaiting_ThrowsAndThePermitGoesToTheNextWaiter()
    {
        var semaphore = Create(0);
        using var cancellation = new CancellationTokenSource();
        var cancelled = semaphore.AcquireAsync(cancellation.Token).AsTask();
        var timedCancelled = semaphore.TryAcquireAsync(TimeSpan.FromSeconds(30), cancellation.Token).AsTask();
        var next = semaphore.AcquireAsync().AsTask();

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => timedCancelled.WaitAsync(Concurrency.HangTimeout));
        Assert.False(next.IsCompleted);
        semaphore.Release();

        await next.WaitAsync(Concurrency.HangTimeout);
        Assert.Equal(0, semaphore.CurrentCount);
        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquireAsync_TimedOut_TakesNoPermit()
    {
        var semaphore = Create(0);
        var timedOut = semaphore.TryAcquireAsync(TimeSpan.FromMilliseconds(20)).AsTask();
        var next = semaphore.AcquireAsync().AsTask();

        Assert.False(await timedOut.WaitAsync(Concurrency.HangTimeout));
        semaphore.Release();
        await next.WaitAsync(Concurrency.HangTimeout);

        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_SeveralWaiters_ServedInArrivalOrder()
    {
        var semaphore = Create(0);
        var waiters = Enumerable.Range(0, 5).Select(_ => semaphore.AcquireAsync().AsTask()).ToList();

        semaphore.Release();
        await waiters[0].WaitAsync(Concurrency.HangTimeout);
        Assert.All(waiters.Skip(1), waiter => Assert.False(waiter.IsCompleted));

        semaphore.Release(2);
        await Task.WhenAll(waiters[1], waiters[2]).WaitAsync(Concurrency.HangTimeout);
        Assert.False(waiters[3].IsCompleted);
        Assert.False(waiters[4].IsCompleted);

        semaphore.Release(3);
        await Task.WhenAll(waiters).WaitAsync(Concurrency.HangTimeout);
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Acquire_SeveralThreads_ServedInArrivalOrder()
    {
        await Task.Yield();
        var semaphore = Create(0);
        var order = new List<int>();
        var waiters = new List<Waiter>();
        for (var index = 0; index < 4; index++)
        {
            var id = index;
            var waiter = Waiter.Start(waiter =>
            {
                waiter.Enter();
                semaphore.Acquire();
                lock (order)
                {
                    order.Add(id);
                }
            });
            waiter.WaitParked();
            waiters.Add(waiter);
        }

        for (var index = 0; index < 4; index++)
        {
            semaphore.Release();
            waiters[index].AssertCompleted();
        }

        Assert.Equal([0, 1, 2, 3], order);
        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_MixedWithSyncWaiters_ServedInArrivalOrder()
    {
        var semaphore = Create(0);
        var first = semaphore.AcquireAsync().AsTask();
        var thread = Waiter.Start(waiter =>
        {
            waiter.Enter();
            semaphore.Acquire();
        });
        thread.WaitParked();
        var last = semaphore.AcquireAsync().AsTask();

        semaphore.Release();
        await first.WaitAsync(Concurrency.HangTimeout);
        semaphore.Release();
        thread.AssertCompleted();
        Assert.False(last.IsCompleted);
        semaphore.Release();
        await last.WaitAsync(Concurrency.HangTimeout);

        Assert.Equal(0, semaphore.CurrentCount);
    }

    /// <summary>
    /// Waits until <paramref name="read"/> reaches <paramref name="expected"/> and every worker still running is queued on the
    /// semaphore, then checks that it did not go past it (the CPython test's "exactly n"). A queued waiter has been granted
    /// nothing (a grant takes it off the queue), so once all of them are queued no acquisition is still on its way: a semaphore
    /// that let one too many through would show it in <paramref name="read"/> by then.
    /// </summary>
    private static void AssertSettlesAt(CountingSemaphore semaphore, Task[] workers, Func<int> read, int expected)
    {
        var queue = (WaitQueue)typeof(CountingSemaphore)
            .GetField("_waiters", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!
            .GetValue(semaphore)!;
        Concurrency.WaitUntil(
            () => read() >= expected && queue.Count == workers.Count(worker => !worker.IsCompleted),
            $"{expected} acquisitions and every other worker queued");
        Assert.Equal(expected, read());
    }
}
