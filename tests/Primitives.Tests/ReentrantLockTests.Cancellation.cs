using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class ReentrantLockTests
{
    [Fact(Timeout = 30_000)]
    public async Task Acquire_CancelledWhileWaiting_ThrowsAndNeverTakesTheLock()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();
        using var cancellation = new CancellationTokenSource();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            try
            {
                reentrantLock.Acquire(cancellation.Token);
                return "acquired";
            }
            catch (OperationCanceledException)
            {
                return reentrantLock.IsHeldByCurrentThread ? "cancelled but held" : "cancelled";
            }
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        cancellation.Cancel();

        Assert.Equal("cancelled", waiter.Result<string>());
        Assert.Equal(1, reentrantLock.RecursionCount);
        reentrantLock.Release();
        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(reentrantLock.TryAcquire)));
    }

    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_CancelledWhileWaiting_Throws()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();
        using var cancellation = new CancellationTokenSource();
        var waiter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return reentrantLock.TryAcquire(TimeSpan.FromSeconds(30), cancellation.Token);
        });
        waiter.WaitEntering();
        waiter.AssertStaysBlocked();

        cancellation.Cancel();

        waiter.AssertFails<OperationCanceledException>();
        reentrantLock.Release();
        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(reentrantLock.TryAcquire)));
    }

    [Fact(Timeout = 30_000)]
    public async Task Acquire_SeveralThreads_ServedInArrivalOrder()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        reentrantLock.Acquire();
        var order = new List<int>();
        var waiters = new List<Waiter>();
        for (var index = 0; index < 4; index++)
        {
            var id = index;
            var waiter = Waiter.Start(waiter =>
            {
                waiter.Enter();
                reentrantLock.Acquire();
                lock (order)
                {
                    order.Add(id);
                }

                reentrantLock.Release();
            });
            waiter.WaitParked();
            waiters.Add(waiter);
        }

        reentrantLock.Release();

        waiters.ForEach(waiter => waiter.AssertCompleted());
        Assert.Equal([0, 1, 2, 3], order);
    }

    [Fact(Timeout = 30_000)]
    public async Task Acquire_ManyThreads_MutuallyExclusive()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        var counter = 0;
        var inside = 0;
        var overlaps = 0;
        var workers = Enumerable.Range(0, 4).Select(_ => Concurrency.Run(() =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                reentrantLock.Acquire();
                reentrantLock.Acquire();
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                counter++;
                Interlocked.Decrement(ref inside);
                reentrantLock.Release();
                reentrantLock.Release();
            }
        })).ToArray();

        Concurrency.AssertCompletes(Task.WhenAll(workers));

        Assert.Equal(0, overlaps);
        Assert.Equal(20_000, counter);
    }
}
