using System.Diagnostics;
using Pipeline.Primitives.Internal;
using static Pipeline.Primitives.Tests.Concurrency;

namespace Pipeline.Primitives.Tests;

/// <summary><see cref="ExclusiveLock.AcquireBargingAsync"/>: an asynchronous acquire that is never handed the lock while suspended.</summary>
public class ExclusiveLockBargingAsyncTests
{
    [Fact(Timeout = 30_000)]
    public async Task AcquireBargingAsync_FreeLock_CompletesSynchronously()
    {
        var exclusiveLock = new ExclusiveLock();

        var acquire = exclusiveLock.AcquireBargingAsync();

        Assert.True(acquire.IsCompletedSuccessfully);
        await acquire;
        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireBargingAsync_CancelledToken_IsCancelledWithoutAcquiring()
    {
        var exclusiveLock = new ExclusiveLock();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exclusiveLock.AcquireBargingAsync(CancelledToken()).AsTask());

        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireBargingAsync_HeldLock_CompletesOnceReleased()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();

        var acquire = exclusiveLock.AcquireBargingAsync().AsTask();
        Assert.False(acquire.IsCompleted);
        exclusiveLock.Release();

        await acquire.WaitAsync(HangTimeout);
        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireBargingAsync_CancelledWhileWaiting_ThrowsAndLeavesTheLockToItsHolder()
    {
        var exclusiveLock = new ExclusiveLock();
        exclusiveLock.Acquire();
        using var cancellation = new CancellationTokenSource();

        var acquire = exclusiveLock.AcquireBargingAsync(cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => acquire.WaitAsync(HangTimeout));
        exclusiveLock.Release();
        Assert.True(exclusiveLock.TryAcquire());
        exclusiveLock.Release();
    }

    // AcquireAsync hands the lock to a waiter queued for a millisecond; AcquireBargingAsync must not, so right after the release
    // the lock is free for a running caller (unless the woken continuation already took it). The waiter is aged past the bound by
    // moving the queue's clock for this thread, between its queueing and the release (both on this thread), not by sleeping.
    [Fact(Timeout = 60_000)]
    public async Task Release_BargingAsyncWaiterQueuedPastHandOverBound_FreesTheLockForARunningCaller()
    {
        const int Rounds = 20;
        var exclusiveLock = new ExclusiveLock();
        var takenByRunningCaller = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var now = Stopwatch.GetTimestamp();
            QueueClock.ThreadOverride = () => now;
            Task acquire;
            try
            {
                exclusiveLock.Acquire();
                acquire = exclusiveLock.AcquireBargingAsync().AsTask();
                now += Stopwatch.Frequency / 100;

                exclusiveLock.Release();
                if (exclusiveLock.TryAcquire())
                {
                    takenByRunningCaller++;
                    exclusiveLock.Release();
                }
            }
            finally
            {
                QueueClock.ThreadOverride = null;
            }

            await acquire.WaitAsync(HangTimeout);
            exclusiveLock.Release();
        }

        Assert.True(takenByRunningCaller > 0, "Every release handed the lock to the suspended barging waiter.");
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireBargingAsync_WithBlockingCallersIncrementing_MutualExclusionHolds()
    {
        const int Workers = 2;
        const int PerWorker = 20_000;
        var exclusiveLock = new ExclusiveLock();
        var counter = 0;

        var asynchronous = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < PerWorker; i++)
            {
                await exclusiveLock.AcquireBargingAsync();
                counter++;
                exclusiveLock.Release();
            }
        }));
        var blocking = Enumerable.Range(0, Workers).Select(_ => Run(() =>
        {
            for (var i = 0; i < PerWorker; i++)
            {
                exclusiveLock.AcquireBarging();
                counter++;
                exclusiveLock.Release();
            }
        }));

        await Task.WhenAll(asynchronous.Concat(blocking)).WaitAsync(TimeSpan.FromSeconds(50));

        Assert.Equal(2 * Workers * PerWorker, counter);
        Assert.False(exclusiveLock.IsLocked);
    }
}
