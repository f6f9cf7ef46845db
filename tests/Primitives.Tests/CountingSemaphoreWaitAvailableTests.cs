using static Pipeline.Primitives.Tests.Concurrency;

namespace Pipeline.Primitives.Tests;

/// <summary><see cref="CountingSemaphore.WaitAvailable"/> and <see cref="CountingSemaphore.WaitAvailableAsync"/>: waits that take no permit.</summary>
public class CountingSemaphoreWaitAvailableTests
{
    [Fact(Timeout = 30_000)]
    public async Task WaitAvailable_PermitAvailable_ReturnsTrueAndTakesNothing()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(2);

        Assert.True(semaphore.WaitAvailable(Timeout.InfiniteTimeSpan));
        Assert.True(CompletedResult(semaphore.WaitAvailableAsync(Timeout.InfiniteTimeSpan)));

        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAvailable_NoPermitZeroTimeout_ReturnsFalse()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);

        Assert.False(semaphore.WaitAvailable(TimeSpan.Zero));
        Assert.False(CompletedResult(semaphore.WaitAvailableAsync(TimeSpan.Zero)));
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAvailable_NegativeTimeout_ThrowsNamingTimeout()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);

        Assert.Equal("timeout", Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.WaitAvailable(TimeSpan.FromSeconds(-1))).ParamName);
        Assert.Equal("timeout", Assert.Throws<ArgumentOutOfRangeException>(() => { _ = semaphore.WaitAvailableAsync(TimeSpan.FromSeconds(-1)).AsTask(); }).ParamName);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAvailableAsync_Release_WakesEveryWatcherAndLeavesThePermit()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);
        var first = semaphore.WaitAvailableAsync(Timeout.InfiniteTimeSpan).AsTask();
        var second = semaphore.WaitAvailableAsync(Timeout.InfiniteTimeSpan).AsTask();
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);

        semaphore.Release();

        Assert.True(await first.WaitAsync(HangTimeout));
        Assert.True(await second.WaitAsync(HangTimeout));
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAvailableAsync_TakerQueuedFirst_TakerGetsThePermitWatcherKeepsWaiting()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);
        var taker = semaphore.AcquireAsync().AsTask();
        var watcher = semaphore.WaitAvailableAsync(Timeout.InfiniteTimeSpan).AsTask();

        semaphore.Release();
        await taker.WaitAsync(HangTimeout);

        Assert.Equal(0, semaphore.CurrentCount);
        Assert.False(watcher.IsCompleted);
        semaphore.Release();
        Assert.True(await watcher.WaitAsync(HangTimeout));
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAvailableAsync_Cancelled_ThrowsAndLaterReleaseIsOrdinary()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);
        using var cancellation = new CancellationTokenSource();
        var watcher = semaphore.WaitAvailableAsync(Timeout.InfiniteTimeSpan, cancellation.Token).AsTask();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watcher.WaitAsync(HangTimeout));
        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAvailable_ReleasedByAnotherThread_WakesWithoutTakingThePermit()
    {
        await Task.Yield();
        var semaphore = new BoundedSemaphore(0, 1);
        var entered = new ManualResetEventSlim();
        var watcher = Run(() =>
        {
            entered.Set();
            return semaphore.WaitAvailable(Timeout.InfiniteTimeSpan);
        });
        entered.Wait(HangTimeout);
        AssertStaysBlocked(watcher);

        semaphore.Release();

        Assert.True(AssertCompletes(watcher));
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAvailable_NoRelease_TimesOutFalse()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);

        Assert.False(semaphore.WaitAvailable(TimeSpan.FromMilliseconds(20)));
        Assert.False(await semaphore.WaitAvailableAsync(TimeSpan.FromMilliseconds(20)).AsTask().WaitAsync(HangTimeout));
        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task WaitAvailableThenTryAcquire_RacingReleases_NeverMissesAPermit()
    {
        await Task.Yield();
        const int Permits = 50_000;
        var semaphore = new CountingSemaphore(0);
        var taken = 0;
        var takers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (Volatile.Read(ref taken) < Permits)
            {
                if (semaphore.TryAcquire())
                {
                    Interlocked.Increment(ref taken);
                }
                else
                {
                    await semaphore.WaitAvailableAsync(TimeSpan.FromMilliseconds(200));
                }
            }
        })).ToArray();

        for (var i = 0; i < Permits; i++)
        {
            semaphore.Release();
        }

        await Task.WhenAll(takers).WaitAsync(TimeSpan.FromSeconds(50));
        Assert.Equal(Permits, taken);
        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitingCount_CountsTakersAndWatchers_UntilGrantedWokenOrCancelled()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);
        Assert.Equal(0, semaphore.WaitingCount);

        using var cancel = new CancellationTokenSource();
        var taker = semaphore.AcquireAsync().AsTask();
        var watcher = semaphore.WaitAvailableAsync(Timeout.InfiniteTimeSpan).AsTask();
        var cancelled = semaphore.AcquireAsync(cancel.Token).AsTask();
        Assert.Equal(3, semaphore.WaitingCount);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(HangTimeout));
        Assert.Equal(2, semaphore.WaitingCount);

        // The permit goes to the taker, which leaves no permit available: the watcher keeps waiting.
        semaphore.Release();
        await taker.WaitAsync(HangTimeout);
        Assert.Equal(1, semaphore.WaitingCount);

        semaphore.Release();
        Assert.True(await watcher.WaitAsync(HangTimeout));
        Assert.Equal(0, semaphore.WaitingCount);
    }
}
