using static Pipeline.Primitives.Tests.Concurrency;

namespace Pipeline.Primitives.Tests;

/// <summary><see cref="ExclusiveLock.AcquireBarging"/>: a blocking acquire that is never handed the lock while parked.</summary>
public class ExclusiveLockBargingTests
{
    [Fact(Timeout = 30_000)]
    public async Task AcquireBarging_FreeLock_AcquiresAtOnce()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        exclusiveLock.AcquireBarging();

        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireBarging_CancelledToken_ThrowsWithoutAcquiring()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();

        Assert.Throws<OperationCanceledException>(() => exclusiveLock.AcquireBarging(new CancellationToken(true)));

        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireBarging_HeldLock_WaitsUntilReleased()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        var entered = new ManualResetEventSlim();

        var waiter = Run(() =>
        {
            entered.Set();
            exclusiveLock.AcquireBarging();
        });
        entered.Wait(HangTimeout);
        AssertStaysBlocked(waiter);

        exclusiveLock.Release();

        AssertCompletes(waiter);
        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireBarging_CancelledWhileWaiting_ThrowsAndLeavesLockToHolder()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        using var cancellation = new CancellationTokenSource();
        var entered = new ManualResetEventSlim();

        var waiter = Run(() =>
        {
            entered.Set();
            exclusiveLock.AcquireBarging(cancellation.Token);
        });
        entered.Wait(HangTimeout);
        cancellation.Cancel();

        AssertFails<OperationCanceledException>(waiter);
        exclusiveLock.Release();
        Assert.True(exclusiveLock.TryAcquire());
        exclusiveLock.Release();
    }

    // Time is under test here: Acquire hands the lock to a waiter queued for a millisecond; AcquireBarging must not.
    [Fact(Timeout = 60_000)]
    public async Task Release_BargingWaiterQueuedPastHandOverBound_FreesLockForRunningCaller()
    {
        await Task.Yield();
        const int Rounds = 20;
        var exclusiveLock = new ExclusiveLock();
        var takenByRunningCaller = 0;
        for (var round = 0; round < Rounds; round++)
        {
            exclusiveLock.Acquire();
            Thread? waiterThread = null;
            var waiter = Run(() =>
            {
                waiterThread = Thread.CurrentThread;
                exclusiveLock.AcquireBarging();
                exclusiveLock.Release();
            });
            WaitUntil(() => Volatile.Read(ref waiterThread) is not null, "the waiter to start");
            WaitUntilParked(waiterThread!);

            // A handed-over lock would still be held here, by a thread that has not run yet.
            exclusiveLock.Release();
            if (exclusiveLock.TryAcquire())
            {
                takenByRunningCaller++;
                exclusiveLock.Release();
            }

            AssertCompletes(waiter);
        }

        Assert.True(takenByRunningCaller > 0, "Every release handed the lock to the parked barging waiter.");
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireBarging_ManyThreadsIncrementing_MutualExclusionHolds()
    {
        await Task.Yield();
        const int Threads = 4;
        const int PerThread = 20_000;
        var exclusiveLock = new ExclusiveLock();
        var counter = 0;

        var workers = Enumerable.Range(0, Threads).Select(_ => Run(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                exclusiveLock.AcquireBarging();
                counter++;
                exclusiveLock.Release();
            }
        })).ToArray();

        foreach (var worker in workers)
        {
            AssertCompletes(worker);
        }

        Assert.Equal(Threads * PerThread, counter);
        Assert.False(exclusiveLock.IsLocked);
    }
}
