using static Pipeline.Primitives.Tests.Concurrency;

namespace Pipeline.Primitives.Tests;

/// <summary><see cref="Condition.NotifyOnRelease"/>, <see cref="Condition.NotifyAllOnRelease"/> and <see cref="Condition.WaitingCount"/>.</summary>
public class ConditionNotifyOnReleaseTests
{
    [Fact(Timeout = 30_000)]
    public async Task NotifyOnRelease_WhileHeld_WakesTheWaiterOnlyOnRelease()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        exclusiveLock.Acquire();
        var pending = condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan);

        exclusiveLock.Acquire();
        condition.NotifyOnRelease();

        // Chosen now, woken by the release: nothing else can complete the wait while the lock is held.
        Assert.Equal(0, condition.WaitingCount);
        Assert.False(pending.IsCompleted);
        exclusiveLock.Release();
        Assert.True(await pending.AsTask().WaitAsync(HangTimeout));
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 30_000)]
    public async Task NotifyOnRelease_CancelledAfterBeingChosen_CountsAsNotified()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        using var cancellation = new CancellationTokenSource();
        exclusiveLock.Acquire();
        var chosen = condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellation.Token).AsTask();

        exclusiveLock.Acquire();
        condition.NotifyOnRelease();
        await cancellation.CancelAsync();
        exclusiveLock.Release();

        Assert.True(await chosen.WaitAsync(HangTimeout));
    }

    [Fact(Timeout = 30_000)]
    public async Task NotifyOnRelease_Count_WakesThatManyOldestFirst()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        var waits = new List<Task<bool>>();
        for (var i = 0; i < 3; i++)
        {
            exclusiveLock.Acquire();
            waits.Add(condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan).AsTask());
        }

        exclusiveLock.Acquire();
        Assert.Equal(3, condition.WaitingCount);
        condition.NotifyOnRelease(2);
        Assert.Equal(1, condition.WaitingCount);
        exclusiveLock.Release();

        Assert.True(await waits[0].WaitAsync(HangTimeout));
        Assert.True(await waits[1].WaitAsync(HangTimeout));
        Assert.False(waits[2].IsCompleted);

        exclusiveLock.Acquire();
        condition.NotifyAllOnRelease();
        exclusiveLock.Release();
        Assert.True(await waits[2].WaitAsync(HangTimeout));
    }

    [Fact(Timeout = 30_000)]
    public async Task NotifyOnRelease_BlockingWaiter_ReacquiresOnceReleased()
    {
        await Task.Yield();
        var condition = new Condition();
        var waiter = Waiter.Start(w =>
        {
            condition.Acquire();
            w.Enter();
            condition.Wait();
            condition.Release();
        });
        waiter.WaitEntering();
        WaitUntil(() => condition.WaitingCount == 1, "the waiter queued");

        condition.Acquire();
        condition.NotifyOnRelease();
        condition.Release();

        await waiter.Completion.WaitAsync(HangTimeout);
    }

    [Fact(Timeout = 30_000)]
    public async Task NotifyOnRelease_NoWaiter_IsNotRemembered()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);

        exclusiveLock.Acquire();
        condition.NotifyOnRelease();
        var later = condition.ReleaseAndWaitAsync(TimeSpan.FromMilliseconds(50));

        Assert.False(await later.AsTask().WaitAsync(HangTimeout));
    }

    [Fact(Timeout = 30_000)]
    public async Task NotifyOnRelease_BadUse_Throws()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        var reentrantLock = new ReentrantLock();
        var reentrantCondition = new Condition(reentrantLock);

        Assert.Throws<SynchronizationLockException>(() => condition.NotifyOnRelease());
        exclusiveLock.Acquire();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => condition.NotifyOnRelease(-1));
        Assert.Equal("count", error.ParamName);
        exclusiveLock.Release();
        reentrantLock.Acquire();
        Assert.Throws<InvalidOperationException>(() => reentrantCondition.NotifyOnRelease());
        reentrantLock.Release();
    }
}
