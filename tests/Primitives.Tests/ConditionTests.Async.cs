using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class ConditionTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitAsync_CancelledWhileWaiting_DoesNotSwallowANotification(string kind)
    {
        var condition = Subject.Create(kind).Condition;
        using var cancellation = new CancellationTokenSource();
        await condition.AcquireAsync();
        var cancelled = condition.WaitAsync(cancellation.Token).AsTask();
        await condition.AcquireAsync();
        var other = condition.WaitAsync().AsTask();
        await condition.AcquireAsync();

        condition.Notify();
        cancellation.Cancel();
        condition.Release();

        // A woken waiter comes back holding the lock, so release whichever is back first.
        var firstBack = await Task.WhenAny(cancelled, other).WaitAsync(Concurrency.HangTimeout);
        condition.Release();
        if (firstBack == other)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));
            condition.Release();
        }
        else if (cancelled.IsCompletedSuccessfully)
        {
            await condition.AcquireAsync();
            condition.NotifyAll();
            condition.Release();
            await other.WaitAsync(Concurrency.HangTimeout);
            condition.Release();
        }
        else
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            await other.WaitAsync(Concurrency.HangTimeout);
            condition.Release();
        }

        Assert.True(condition.TryAcquire());
    }

    [Theory(Timeout = 30_000)]
    [InlineData("notified")]
    [InlineData("timed out")]
    [InlineData("cancelled")]
    public async Task Wait_EveryExitOnAReentrantLock_RestoresTheRecursionDepth(string exit)
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        var condition = new Condition(reentrantLock);
        using var cancellation = new CancellationTokenSource();
        var waiter = Waiter.Start(waiter =>
        {
            condition.Acquire();
            condition.Acquire();
            condition.Acquire();
            waiter.Enter();
            try
            {
                condition.Wait(exit == "timed out" ? TimeSpan.FromMilliseconds(50) : TimeSpan.FromSeconds(10), cancellation.Token);
            }
            catch (OperationCanceledException)
            {
            }

            var depth = reentrantLock.RecursionCount;
            for (var i = 0; i < depth; i++)
            {
                condition.Release();
            }

            return depth;
        });
        waiter.WaitEntering();
        condition.Acquire();
        Assert.Equal(1, reentrantLock.RecursionCount);
        if (exit == "notified")
        {
            condition.Notify();
        }

        condition.Release();
        if (exit == "cancelled")
        {
            cancellation.Cancel();
        }

        Assert.Equal(3, waiter.Result<int>());
        Assert.True(condition.TryAcquire());
    }

    [Fact(Timeout = 30_000)]
    public async Task Wait_ReentrantLockHeldSeveralTimes_FullyReleasesWhileWaiting()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        var condition = new Condition(reentrantLock);
        var waiter = Waiter.Start(waiter =>
        {
            condition.Acquire();
            condition.Acquire();
            waiter.Enter();
            var notified = condition.Wait(TimeSpan.FromSeconds(10));
            var depth = reentrantLock.RecursionCount;
            condition.Release();
            condition.Release();
            return (notified, depth);
        });
        waiter.WaitEntering();

        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(() =>
        {
            var acquired = reentrantLock.TryAcquire(TimeSpan.FromSeconds(10));
            condition.Notify();
            reentrantLock.Release();
            return acquired;
        })));

        Assert.Equal((true, 2), waiter.Result<(bool, int)>());
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAsync_ReentrantLockCondition_ThrowsInvalidOperation()
    {
        var reentrantLock = new ReentrantLock();
        var condition = new Condition(reentrantLock);
        condition.Acquire();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await condition.WaitAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await condition.WaitAsync(TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await condition.WaitForAsync(() => false));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await condition.WaitForAsync(() => false, TimeSpan.FromSeconds(1)));

        Assert.Equal(1, reentrantLock.RecursionCount);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Notify_WithNoWaiters_IsNotRemembered(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        subject.Condition.Acquire();
        subject.Condition.Notify();
        subject.Condition.NotifyAll();

        Assert.False(subject.Condition.Wait(TimeSpan.FromMilliseconds(30)));

        subject.Condition.Release();
    }

    [Fact(Timeout = 30_000)]
    public async Task Notify_Count_WakesExactlyThatManyOldestFirst()
    {
        var condition = new Condition();
        var waiters = new List<Task>();
        for (var i = 0; i < 5; i++)
        {
            await condition.AcquireAsync();
            waiters.Add(condition.WaitAsync().AsTask());
        }

        await condition.AcquireAsync();
        condition.Notify(2);
        condition.Release();

        await ReleaseAsTheyReturn(condition, waiters[0], waiters[1]);
        Assert.All(waiters.Skip(2), waiter => Assert.False(waiter.IsCompleted));
        await condition.AcquireAsync();
        condition.Notify();
        condition.Release();
        await ReleaseAsTheyReturn(condition, waiters[2]);
        Assert.False(waiters[3].IsCompleted);
        Assert.False(waiters[4].IsCompleted);

        await condition.AcquireAsync();
        condition.NotifyAll();
        condition.Release();
        await ReleaseAsTheyReturn(condition, waiters[3], waiters[4]);

        Assert.True(condition.TryAcquire());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Notify_SyncWaiters_WakesTheOldestFirst(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;
        var woken = new List<int>();
        var waiters = Enumerable.Range(0, 3).Select(id => StartWaiting(condition, () =>
        {
            condition.Wait();
            woken.Add(id);
        })).ToList();

        for (var round = 1; round <= 3; round++)
        {
            condition.Acquire();
            condition.Notify();
            condition.Release();
            waiters[round - 1].AssertCompleted();
        }

        Assert.Equal([0, 1, 2], woken);
    }

    [Fact(Timeout = 30_000)]
    public async Task WaitAsync_MixedWithSyncWaiters_NotifyWakesInArrivalOrder()
    {
        var condition = new Condition();
        var woken = new List<string>();
        await condition.AcquireAsync();
        var first = condition.WaitAsync().AsTask();
        var thread = StartWaiting(condition, () =>
        {
            condition.Wait();
            woken.Add("sync");
        });
        await condition.AcquireAsync();
        var last = condition.WaitAsync().AsTask();

        await condition.AcquireAsync();
        condition.Notify();
        condition.Release();
        await first.WaitAsync(Concurrency.HangTimeout);
        woken.Add("async-1");
        condition.Notify();
        condition.Release();
        thread.AssertCompleted();
        Assert.False(last.IsCompleted);
        await condition.AcquireAsync();
        condition.Notify();
        condition.Release();
        await last.WaitAsync(Concurrency.HangTimeout);
        woken.Add("async-2");
        condition.Release();

        Assert.Equal(["async-1", "sync", "async-2"], woken);
    }

    /// <summary>
    /// Starts a thread that takes the condition's lock and runs <paramref name="wait"/>, and
    /// returns once that thread is known to be inside the wait: it held the lock when it
    /// signalled, and the lock could then be taken here, so the wait released it.
    /// </summary>
    private static Waiter StartWaiting<T>(Condition condition, Func<T> wait)
    {
        var waiter = Waiter.Start(waiter =>
        {
            condition.Acquire();
            waiter.Enter();
            try
            {
                return wait();
            }
            finally
            {
                condition.Release();
            }
        });
        waiter.WaitEntering();
        Assert.True(condition.TryAcquire(Concurrency.HangTimeout), "The waiter never released the lock inside its wait.");
        condition.Release();
        return waiter;
    }

    /// <summary>
    /// Changes the state and notifies four times. Notifications are not stored, so before each
    /// one the waiter must be back in its wait: its predicate has run once more, under the lock,
    /// and the lock could be taken here afterwards.
    /// </summary>
    private static void ChangeAndNotifyFourTimes(Condition condition, Action change, Func<int> evaluations)
    {
        for (var round = 0; round < 4; round++)
        {
            var expected = round + 1;
            Concurrency.WaitUntil(
                () =>
                {
                    condition.Acquire();
                    try
                    {
                        return evaluations() == expected;
                    }
                    finally
                    {
                        condition.Release();
                    }
                },
                "the waiter to wait again");
            condition.Acquire();
            change();
            condition.Notify();
            condition.Release();
        }
    }

    /// <summary>
    /// Waits for woken async waiters, which each come back holding the lock, and releases the
    /// lock for each in the order they come back.
    /// </summary>
    private static async Task ReleaseAsTheyReturn(Condition condition, params Task[] woken)
    {
        var remaining = woken.ToList();
        while (remaining.Count > 0)
        {
            var back = await Task.WhenAny(remaining).WaitAsync(Concurrency.HangTimeout);
            remaining.Remove(back);
            await back;
            condition.Release();
        }
    }

    private static async Task WaitUntilAsync(Condition condition, Func<bool> predicate)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await condition.AcquireAsync();
            var holds = predicate();
            condition.Release();
            if (holds)
            {
                return;
            }

            Assert.True(clock.Elapsed < Concurrency.HangTimeout, "Timed out waiting for the waiters to wait again.");
            await Task.Yield();
        }
    }
}
