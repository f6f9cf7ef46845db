using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class ConditionTests
{
    private static readonly TimeSpan NegativeTimeout = TimeSpan.FromMilliseconds(-2);

    /// <summary>The three ways to build a condition; the async-capable ones are listed apart.</summary>
    public static TheoryData<string> AllLockKinds => ["default", "exclusive", "reentrant"];

    public static TheoryData<string> AsyncLockKinds => ["default", "exclusive"];

    // ConditionTests.test_acquire (Condition(Lock()))
    [Fact(Timeout = 30_000)]
    public async Task Acquire_ExclusiveLockCondition_LocksAndReleasesTheUnderlyingLock()
    {
        await Task.Yield();
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);

        condition.Acquire();
        Assert.True(exclusiveLock.IsLocked);
        Assert.False(exclusiveLock.TryAcquire());
        condition.Release();
        Assert.False(exclusiveLock.IsLocked);

        exclusiveLock.Acquire();
        Assert.False(condition.TryAcquire());
        Assert.False(condition.TryAcquire(TimeSpan.Zero));
        exclusiveLock.Release();

        using (condition.Lock())
        {
            Assert.True(exclusiveLock.IsLocked);
        }

        Assert.False(exclusiveLock.IsLocked);
    }

    // ConditionTests.test_acquire (the default, reentrant in CPython, here built on a ReentrantLock)
    [Fact(Timeout = 30_000)]
    public async Task Acquire_ReentrantLockCondition_IsReentrant()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        var condition = new Condition(reentrantLock);

        condition.Acquire();
        condition.Acquire();
        Assert.Equal(2, reentrantLock.RecursionCount);
        condition.Release();
        condition.Release();

        Assert.False(reentrantLock.IsHeldByCurrentThread);
        using (condition.Lock())
        {
            Assert.True(condition.TryAcquire(TimeSpan.FromSeconds(1)));
            Assert.Equal(2, reentrantLock.RecursionCount);
            condition.Release();
        }

        Assert.False(reentrantLock.IsHeldByCurrentThread);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_ExclusiveLockCondition_LocksTheUnderlyingLock()
    {
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);

        await condition.AcquireAsync();
        Assert.True(exclusiveLock.IsLocked);
        Assert.False(await condition.TryAcquireAsync(TimeSpan.Zero));
        condition.Release();

        Assert.True(await condition.TryAcquireAsync(TimeSpan.FromSeconds(1)));
        condition.Release();
        using (await condition.LockAsync())
        {
            Assert.True(exclusiveLock.IsLocked);
        }

        Assert.False(exclusiveLock.IsLocked);
    }

    // ConditionAsRLockTests: the lock members of a Condition behave as its lock's
    [Fact(Timeout = 30_000)]
    public async Task TryAcquire_DefaultConditionHeldByAnotherThread_ReturnsFalse()
    {
        await Task.Yield();
        var condition = new Condition();
        condition.Acquire();

        Assert.False(Concurrency.AssertCompletes(Concurrency.Run(condition.TryAcquire)));
        condition.Release();

        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(condition.TryAcquire)));
    }

    // ConditionAsRLockTests.test_acquire_contended: the lock members block like the lock's own
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Acquire_Contended_BlocksEveryWaiterUntilRelease(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;
        condition.Acquire();
        var waiters = Enumerable.Range(0, 3).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            condition.Acquire();
            condition.Release();
        })).ToList();
        waiters.ForEach(waiter => waiter.WaitEntering());
        waiters.ForEach(waiter => waiter.AssertStaysBlocked());

        condition.Release();

        waiters.ForEach(waiter => waiter.AssertCompleted());
        Assert.True(condition.TryAcquire());
    }

    // ConditionAsRLockTests.test_with
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Lock_BodyThrows_ReleasesTheConditionsLock(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;

        Assert.Throws<DivideByZeroException>(void () =>
        {
            using (condition.Lock())
            {
                throw new DivideByZeroException();
            }
        });

        Assert.True(Concurrency.AssertCompletes(Concurrency.Run(condition.TryAcquire)));
    }

    // ConditionTests.test_unacquired_wait
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_WithoutTheLock_ThrowsSynchronizationLockException(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        var condition = subject.Condition;

        Assert.Throws<SynchronizationLockException>(() => condition.Wait());
        Assert.Throws<SynchronizationLockException>(() => condition.Wait(TimeSpan.FromSeconds(1)));
        Assert.Throws<SynchronizationLockException>(() => condition.WaitFor(() => true));
        Assert.Throws<SynchronizationLockException>(() => condition.WaitFor(() => true, TimeSpan.FromSeconds(1)));

        Assert.True(condition.TryAcquire());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitAsync_WithoutTheLock_ThrowsSynchronizationLockException(string kind)
    {
        var condition = Subject.Create(kind).Condition;

        await Assert.ThrowsAsync<SynchronizationLockException>(async () => await condition.WaitAsync());
        await Assert.ThrowsAsync<SynchronizationLockException>(async () => await condition.WaitAsync(TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<SynchronizationLockException>(async () => await condition.WaitForAsync(() => true));
        await Assert.ThrowsAsync<SynchronizationLockException>(async () => await condition.WaitForAsync(() => true, TimeSpan.FromSeconds(1)));

        Assert.True(condition.TryAcquire());
    }

    [Fact(Timeout = 30_000)]
    public async Task Wait_ReentrantLockHeldByAnotherThread_ThrowsSynchronizationLockException()
    {
        await Task.Yield();
        var reentrantLock = new ReentrantLock();
        var condition = new Condition(reentrantLock);
        Concurrency.AssertCompletes(Concurrency.Run(() => reentrantLock.Acquire()));

        Assert.Throws<SynchronizationLockException>(() => condition.Wait(TimeSpan.FromSeconds(1)));
        Assert.Throws<SynchronizationLockException>(() => condition.Notify());
    }

    // ConditionTests.test_unacquired_notify
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Notify_WithoutTheLock_ThrowsSynchronizationLockException(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;

        Assert.Throws<SynchronizationLockException>(() => condition.Notify());
        Assert.Throws<SynchronizationLockException>(() => condition.Notify(2));
        Assert.Throws<SynchronizationLockException>(() => condition.NotifyAll());
    }

    // ConditionTests.test_notify (_check_notify, run twice on the same condition)
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Notify_FiveWaiters_WakesExactlyTheRequestedNumberOldestFirst(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;

        CheckNotify(condition);
        CheckNotify(condition);
    }

    // ConditionTests.test_timeout
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_TimeoutWithoutNotify_ReturnsFalseAfterTheTimeoutHoldingTheLock(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        var timeout = TimeSpan.FromMilliseconds(300);
        var waiters = Enumerable.Range(0, 5).Select(_ => Concurrency.Run(() =>
        {
            subject.Condition.Acquire();
            var clock = Stopwatch.StartNew();
            var notified = subject.Condition.Wait(timeout);
            var elapsed = clock.Elapsed;
            var held = subject.IsHeldByWaiter();
            subject.Condition.Release();
            return (notified, elapsed, held);
        })).ToList();

        foreach (var waiter in waiters)
        {
            var (notified, elapsed, held) = Concurrency.AssertCompletes(waiter);
            Assert.False(notified);
            Assert.True(held);
            Concurrency.AssertDuration(elapsed, timeout);
        }
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitAsync_TimeoutWithoutNotify_ReturnsFalseAfterTheTimeoutHoldingTheLock(string kind)
    {
        var subject = Subject.Create(kind);
        var timeout = TimeSpan.FromMilliseconds(200);
        await subject.Condition.AcquireAsync();
        var clock = Stopwatch.StartNew();

        var notified = await subject.Condition.WaitAsync(timeout).AsTask().WaitAsync(Concurrency.HangTimeout);

        Assert.False(notified);
        Concurrency.AssertDuration(clock.Elapsed, timeout);
        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    // ConditionTests.test_waitfor
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task WaitFor_NotifiedAfterEachChange_ReturnsOnceThePredicateHolds(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;
        var state = 0;
        var evaluations = 0;
        var waiter = Concurrency.Run(() =>
        {
            condition.Acquire();
            condition.WaitFor(() =>
            {
                evaluations++;
                return state == 4;
            });
            var seen = state;
            condition.Release();
            return seen;
        });

        ChangeAndNotifyFourTimes(condition, () => state++, () => evaluations);

        Assert.Equal(4, Concurrency.AssertCompletes(waiter));
        Assert.Equal(5, evaluations);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task WaitFor_TimedAndNotifiedAfterEachChange_ReturnsTrue(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;
        var state = 0;
        var evaluations = 0;
        var waiter = Concurrency.Run(() =>
        {
            condition.Acquire();
            var result = condition.WaitFor(
                () =>
                {
                    evaluations++;
                    return state == 4;
                },
                TimeSpan.FromSeconds(10));
            condition.Release();
            return result;
        });

        ChangeAndNotifyFourTimes(condition, () => state++, () => evaluations);

        Assert.True(Concurrency.AssertCompletes(waiter));
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitForAsync_NotifiedAfterEachChange_ReturnsOnceThePredicateHolds(string kind)
    {
        var condition = Subject.Create(kind).Condition;
        var state = 0;
        var untimedEvaluations = 0;
        var timedEvaluations = 0;
        await condition.AcquireAsync();
        var untimed = condition.WaitForAsync(() =>
        {
            untimedEvaluations++;
            return state == 4;
        }).AsTask();
        await condition.AcquireAsync();
        var timed = condition.WaitForAsync(
            () =>
            {
                timedEvaluations++;
                return state == 4;
            },
            TimeSpan.FromSeconds(10)).AsTask();

        for (var change = 1; change <= 4; change++)
        {
            Assert.False(untimed.IsCompleted);
            await condition.AcquireAsync();
            state++;
            condition.NotifyAll();
            condition.Release();
            if (change < 4)
            {
                // Notifications are not stored: both must be waiting again before the next one.
                var expected = change + 1;
                await WaitUntilAsync(condition, () => untimedEvaluations == expected && timedEvaluations == expected);
            }
        }

        var first = await Task.WhenAny(untimed, timed).WaitAsync(Concurrency.HangTimeout);
        condition.Release();
        var second = first == untimed ? timed : untimed;
        await second.WaitAsync(Concurrency.HangTimeout);
        condition.Release();
        Assert.True(await timed);
        Assert.Equal(4, state);
    }
}
