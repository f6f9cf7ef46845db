using static Pipeline.Primitives.Tests.Concurrency;

namespace Pipeline.Primitives.Tests;

/// <summary><see cref="Condition.ReleaseAndWait"/> and <see cref="Condition.ReleaseAndWaitAsync"/>: waits that return without the lock.</summary>
public class ConditionReleaseAndWaitTests
{
    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWait_LockNotHeld_ThrowsSynchronizationLockException()
    {
        await Task.Yield();
        var condition = new Condition();

        Assert.Throws<SynchronizationLockException>(() => condition.ReleaseAndWait(TimeSpan.Zero));
        await Assert.ThrowsAsync<SynchronizationLockException>(async () => await condition.ReleaseAndWaitAsync(TimeSpan.Zero));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWait_NegativeTimeout_ThrowsAndKeepsLock()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        exclusiveLock.Acquire();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => condition.ReleaseAndWait(TimeSpan.FromMilliseconds(-2)));

        Assert.Equal("timeout", error.ParamName);
        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWait_ZeroTimeout_ReleasesLockAndReturnsFalse()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);

        exclusiveLock.Acquire();
        Assert.False(condition.ReleaseAndWait(TimeSpan.Zero));
        Assert.False(exclusiveLock.IsLocked);

        exclusiveLock.Acquire();
        Assert.False(CompletedResult(condition.ReleaseAndWaitAsync(TimeSpan.Zero)));
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWait_Notified_ReturnsTrueWithoutTheLock()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        var queued = new ManualResetEventSlim();

        var waiter = Run(() =>
        {
            exclusiveLock.Acquire();
            queued.Set();
            return condition.ReleaseAndWait(Timeout.InfiniteTimeSpan);
        });
        queued.Wait(HangTimeout);

        // The waiter queued before releasing, so once the lock is ours its notification cannot be missed.
        exclusiveLock.Acquire();
        condition.Notify();
        exclusiveLock.Release();

        Assert.True(AssertCompletes(waiter));
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWaitAsync_Notified_CompletesTrueWithoutTheLock()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        exclusiveLock.Acquire();

        var pending = condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan);
        Assert.False(pending.IsCompleted);
        Assert.False(exclusiveLock.IsLocked);

        exclusiveLock.Acquire();
        condition.Notify();
        Assert.True(await pending.AsTask().WaitAsync(HangTimeout));

        // Still held by the notifier: the woken waiter neither took the lock nor queued for it.
        Assert.True(exclusiveLock.IsLocked);
        exclusiveLock.Release();
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWaitAsync_TimesOut_ReturnsFalseWithoutTheLock()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        exclusiveLock.Acquire();

        Assert.False(await condition.ReleaseAndWaitAsync(TimeSpan.FromMilliseconds(20)).AsTask().WaitAsync(HangTimeout));

        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWaitAsync_Cancelled_ThrowsAndNotificationGoesToNextWaiter()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        using var cancellation = new CancellationTokenSource();
        exclusiveLock.Acquire();
        var cancelled = condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellation.Token).AsTask();
        exclusiveLock.Acquire();
        var second = condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan).AsTask();

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(HangTimeout));
        exclusiveLock.Acquire();
        condition.Notify();
        exclusiveLock.Release();

        Assert.True(await second.WaitAsync(HangTimeout));
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWaitAsync_ReentrantLock_ThrowsInvalidOperation()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        var condition = new Condition(reentrantLock);
        reentrantLock.Acquire();

        Assert.Throws<InvalidOperationException>(() => { _ = condition.ReleaseAndWaitAsync(TimeSpan.Zero).AsTask(); });

        Assert.True(reentrantLock.IsHeldByCurrentThread);
        reentrantLock.Release();
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWaitAsync_Notified_ContinuationNeverRunsInsideTheNotifiersRelease()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        var insideRelease = 0;
        var notifierThread = Environment.CurrentManagedThreadId;
        exclusiveLock.Acquire();
        var ranInline = ContinueAfter(condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan));

        exclusiveLock.Acquire();
        condition.NotifyOnRelease();
        Volatile.Write(ref insideRelease, 1);
        exclusiveLock.Release();
        Volatile.Write(ref insideRelease, 0);

        Assert.False(await ranInline.WaitAsync(HangTimeout));

        async Task<bool> ContinueAfter(ValueTask<bool> wait)
        {
            await wait.ConfigureAwait(false);
            return Environment.CurrentManagedThreadId == notifierThread && Volatile.Read(ref insideRelease) == 1;
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleaseAndWaitAsync_AwaitedUnderASynchronizationContext_ResumesThroughIt()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        var context = new CountingContext();
        exclusiveLock.Acquire();
        var pending = condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan);
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        Task<bool> resumed;
        try
        {
            // Runs up to its await, which captures the context, before returning.
            resumed = AwaitUnderContext(pending);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        Assert.False(resumed.IsCompleted);
        exclusiveLock.Acquire();
        condition.NotifyOnRelease();
        exclusiveLock.Release();

        Assert.True(await resumed.WaitAsync(HangTimeout));
        Assert.True(context.Posts >= 1, "The continuation should have been posted to the captured context.");
    }

    private static async Task<bool> AwaitUnderContext(ValueTask<bool> wait) => await wait;

    /// <summary>Runs posted work on the thread pool and counts it.</summary>
    private sealed class CountingContext : SynchronizationContext
    {
        private int _posts;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            ThreadPool.UnsafeQueueUserWorkItem(_ => d(state), null);
        }
    }
}
