using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public class ConditionTests
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

    // ConditionTests.test_waitfor_timeout
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task WaitFor_PredicateNeverTrue_ReturnsFalseAfterTheTimeout(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        var condition = subject.Condition;
        var timeout = TimeSpan.FromMilliseconds(200);
        var waiter = Waiter.Start(waiter =>
        {
            condition.Acquire();
            waiter.Enter();
            var clock = Stopwatch.StartNew();
            var result = condition.WaitFor(() => false, timeout);
            var elapsed = clock.Elapsed;
            var held = subject.IsHeldByWaiter();
            condition.Release();
            return (result, elapsed, held);
        });
        waiter.WaitEntering();

        for (var i = 0; i < 3; i++)
        {
            condition.Acquire();
            condition.Notify();
            condition.Release();
        }

        var (result, elapsed, held) = waiter.Result<(bool, TimeSpan, bool)>();
        Assert.False(result);
        Assert.True(held);
        Concurrency.AssertDuration(elapsed, timeout);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitForAsync_PredicateNeverTrue_ReturnsFalseAfterTheTimeout(string kind)
    {
        var subject = Subject.Create(kind);
        var timeout = TimeSpan.FromMilliseconds(200);
        await subject.Condition.AcquireAsync();
        var clock = Stopwatch.StartNew();

        var result = await subject.Condition.WaitForAsync(() => false, timeout).AsTask().WaitAsync(Concurrency.HangTimeout);

        Assert.False(result);
        Concurrency.AssertDuration(clock.Elapsed, timeout);
        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task WaitFor_PredicateAlreadyTrue_ReturnsAtOnceWithoutANotify(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        subject.Condition.Acquire();

        subject.Condition.WaitFor(() => true);
        Assert.True(subject.Condition.WaitFor(() => true, TimeSpan.FromSeconds(30)));
        Assert.True(subject.Condition.WaitFor(() => true, TimeSpan.Zero));
        Assert.False(subject.Condition.WaitFor(() => false, TimeSpan.Zero));

        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitForAsync_PredicateAlreadyTrue_CompletesSynchronously(string kind)
    {
        var subject = Subject.Create(kind);
        await subject.Condition.AcquireAsync();

        Concurrency.Completed(subject.Condition.WaitForAsync(() => true));
        Assert.True(Concurrency.CompletedResult(subject.Condition.WaitForAsync(() => true, TimeSpan.FromSeconds(30))));
        Assert.False(Concurrency.CompletedResult(subject.Condition.WaitForAsync(() => false, TimeSpan.Zero)));

        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task WaitFor_StateChangedWithoutNotify_ReturnsThePredicatesLastValueAfterTheTimeout(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;
        var ready = false;
        var waiter = Waiter.Start(waiter =>
        {
            condition.Acquire();
            waiter.Enter();
            var result = condition.WaitFor(() => ready, TimeSpan.FromMilliseconds(200));
            condition.Release();
            return result;
        });
        waiter.WaitEntering();

        condition.Acquire();
        ready = true;
        condition.Release();

        Assert.True(waiter.Result<bool>());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task WaitFor_Always_EvaluatesThePredicateWhileHoldingTheLock(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        var evaluations = 0;
        var unheld = 0;
        var state = 0;
        var waiter = Concurrency.Run(() =>
        {
            subject.Condition.Acquire();
            subject.Condition.WaitFor(() =>
            {
                if (!subject.IsHeldByWaiterOnThisThread())
                {
                    unheld++;
                }

                evaluations++;
                return state == 4;
            });
            subject.Condition.Release();
        });

        ChangeAndNotifyFourTimes(subject.Condition, () => state++, () => evaluations);

        Concurrency.AssertCompletes(waiter);
        Assert.Equal(5, evaluations);
        Assert.Equal(0, unheld);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_NegativeTimeout_ThrowsArgumentOutOfRangeAndKeepsTheLock(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        subject.Condition.Acquire();

        Assert.Throws<ArgumentOutOfRangeException>(() => subject.Condition.Wait(NegativeTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => subject.Condition.WaitFor(() => true, NegativeTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => subject.Condition.WaitFor(() => false, TimeSpan.FromSeconds(-100)));

        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitAsync_NegativeTimeout_ThrowsArgumentOutOfRangeAndKeepsTheLock(string kind)
    {
        var subject = Subject.Create(kind);
        await subject.Condition.AcquireAsync();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await subject.Condition.WaitAsync(NegativeTimeout));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await subject.Condition.WaitForAsync(() => true, NegativeTimeout));

        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_ZeroTimeout_ReturnsFalseWithoutWaitingAndKeepsTheLock(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        subject.Condition.Acquire();
        var clock = Stopwatch.StartNew();

        Assert.False(subject.Condition.Wait(TimeSpan.Zero));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitAsync_ZeroTimeout_ReturnsFalseAndKeepsTheLock(string kind)
    {
        var subject = Subject.Create(kind);
        await subject.Condition.AcquireAsync();

        Assert.False(await subject.Condition.WaitAsync(TimeSpan.Zero).AsTask().WaitAsync(TimeSpan.FromSeconds(1)));

        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_InfiniteTimeout_WaitsForANotify(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;
        var waiter = StartWaiting(condition, () => condition.Wait(Timeout.InfiniteTimeSpan));
        waiter.AssertStaysBlocked();

        condition.Acquire();
        condition.Notify();
        condition.Release();

        Assert.True(waiter.Result<bool>());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_PreCancelled_ThrowsAndKeepsTheLock(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        subject.Condition.Acquire();

        Assert.ThrowsAny<OperationCanceledException>(() => subject.Condition.Wait(Concurrency.CancelledToken()));
        Assert.ThrowsAny<OperationCanceledException>(() => subject.Condition.Wait(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));
        Assert.ThrowsAny<OperationCanceledException>(() => subject.Condition.WaitFor(() => false, Concurrency.CancelledToken()));

        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitAsync_PreCancelled_ThrowsAndKeepsTheLock(string kind)
    {
        var subject = Subject.Create(kind);
        await subject.Condition.AcquireAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await subject.Condition.WaitAsync(Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await subject.Condition.WaitAsync(TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await subject.Condition.WaitForAsync(() => false, Concurrency.CancelledToken()));

        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_CancelledWhileWaiting_ThrowsHoldingTheLockAgain(string kind)
    {
        await Task.Yield();
        var subject = Subject.Create(kind);
        using var cancellation = new CancellationTokenSource();
        var waiter = StartWaiting(subject.Condition, () =>
        {
            try
            {
                subject.Condition.Wait(cancellation.Token);
                return "returned";
            }
            catch (OperationCanceledException)
            {
                return subject.IsHeldByWaiterOnThisThread() ? "cancelled holding the lock" : "cancelled without the lock";
            }
        });

        cancellation.Cancel();

        Assert.Equal("cancelled holding the lock", waiter.Result<string>());
        Assert.True(subject.Condition.TryAcquire());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AsyncLockKinds))]
    public async Task WaitAsync_CancelledWhileWaiting_ThrowsHoldingTheLockAgain(string kind)
    {
        var subject = Subject.Create(kind);
        using var cancellation = new CancellationTokenSource();
        await subject.Condition.AcquireAsync();
        var waiting = subject.Condition.WaitAsync(cancellation.Token).AsTask();
        Assert.True(await subject.Condition.TryAcquireAsync(TimeSpan.FromSeconds(5)));

        cancellation.Cancel();

        // It must take the lock back before it may throw, and the lock is held here.
        Concurrency.AssertStaysBlocked(waiting, "the cancelled waiter");
        subject.Condition.Release();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Concurrency.HangTimeout));
        Assert.True(subject.IsHeldByWaiter());
        subject.Condition.Release();
        Assert.True(subject.Condition.TryAcquire());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_CancelledWhileWaiting_DoesNotSwallowALaterNotify(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;
        using var cancellation = new CancellationTokenSource();
        var cancelled = StartWaiting(condition, () => condition.Wait(cancellation.Token));
        var other = StartWaiting(condition, () => condition.Wait(TimeSpan.FromSeconds(10)));

        cancellation.Cancel();
        cancelled.AssertFails<OperationCanceledException>();
        condition.Acquire();
        condition.Notify();
        condition.Release();

        Assert.True(other.Result<bool>());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllLockKinds))]
    public async Task Wait_CancelledRightAfterBeingNotified_PassesTheNotificationOn(string kind)
    {
        await Task.Yield();
        var condition = Subject.Create(kind).Condition;
        using var cancellation = new CancellationTokenSource();
        var first = StartWaiting(condition, () => condition.Wait(cancellation.Token));
        var second = StartWaiting(condition, () => condition.Wait(TimeSpan.FromSeconds(10)));

        condition.Acquire();
        condition.Notify();
        cancellation.Cancel();
        condition.Release();

        Assert.True(SpinWait.SpinUntil(() => first.Completion.IsCompleted, Concurrency.HangTimeout));
        if (first.Completion.IsFaulted)
        {
            first.AssertFails<OperationCanceledException>();
            Assert.True(second.Result<bool>(), "The notification was lost with the cancelled waiter.");
        }
        else
        {
            condition.Acquire();
            condition.NotifyAll();
            condition.Release();
            Assert.True(second.Result<bool>());
        }
    }

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

    private static Waiter StartWaiting(Condition condition, Action wait) =>
        StartWaiting(condition, () =>
        {
            wait();
            return true;
        });

    private static void CheckNotify(Condition condition)
    {
        var phase = 0;
        var firstWaits = 0;
        var secondWaits = 0;
        var firstResults = new List<(int Id, bool Notified, int Phase)>();
        var secondResults = new List<(int Id, bool Notified, int Phase)>();
        var waiters = new List<Task>();

        int Locked(Func<int> read)
        {
            condition.Acquire();
            try
            {
                return read();
            }
            finally
            {
                condition.Release();
            }
        }

        for (var index = 0; index < 5; index++)
        {
            var id = index;
            waiters.Add(Concurrency.Run(() =>
            {
                condition.Acquire();
                firstWaits++;
                var notified = condition.Wait(TimeSpan.FromSeconds(20));
                firstResults.Add((id, notified, phase));
                secondWaits++;
                notified = condition.Wait(TimeSpan.FromSeconds(20));
                secondResults.Add((id, notified, phase));
                condition.Release();
            }));

            // Started one at a time, so the order of the wait queue is the order of the ids.
            Concurrency.WaitUntil(() => Locked(() => firstWaits) == id + 1, "the waiter to wait");
        }

        condition.Acquire();
        condition.Notify(3);
        phase = 1;
        condition.Release();

        Concurrency.WaitUntil(() => Locked(() => secondWaits) == 3, "three waiters to wait again");
        condition.Acquire();
        Assert.Equal([(0, true, 1), (1, true, 1), (2, true, 1)], firstResults.OrderBy(result => result.Id));
        Assert.Empty(secondResults);
        condition.Release();
        Assert.All(waiters, waiter => Assert.False(waiter.IsCompleted));

        condition.Acquire();
        condition.Notify(5);
        phase = 2;
        condition.Release();

        Concurrency.WaitUntil(() => Locked(() => secondWaits) == 5 && Locked(() => secondResults.Count) == 3, "all waiters to be woken once more");
        condition.Acquire();
        Assert.Equal([(3, true, 2), (4, true, 2)], firstResults.Skip(3).OrderBy(result => result.Id));
        Assert.Equal([(0, true, 2), (1, true, 2), (2, true, 2)], secondResults.OrderBy(result => result.Id));
        condition.NotifyAll();
        phase = 3;
        condition.Release();

        Concurrency.AssertCompletes(Task.WhenAll(waiters));
        Assert.Equal([(3, true, 3), (4, true, 3)], secondResults.Skip(3).OrderBy(result => result.Id));
    }

    /// <summary>A condition under test and a way to ask whether its lock is held by the waiter.</summary>
    private sealed class Subject
    {
        private readonly Func<bool> _isHeldOnThisThread;

        private Subject(Condition condition, Func<bool> isHeldOnThisThread, Func<bool> isHeld)
        {
            Condition = condition;
            _isHeldOnThisThread = isHeldOnThisThread;
            IsHeldByWaiter = isHeld;
        }

        public Condition Condition { get; }

        /// <summary>Whether the lock is held (by the caller, for a reentrant lock).</summary>
        public Func<bool> IsHeldByWaiter { get; }

        public static Subject Create(string kind)
        {
            switch (kind)
            {
                case "exclusive":
                    var exclusiveLock = new ExclusiveLock();
                    return new Subject(new Condition(exclusiveLock), () => exclusiveLock.IsLocked, () => exclusiveLock.IsLocked);
                case "reentrant":
                    var reentrantLock = new ReentrantLock();
                    return new Subject(new Condition(reentrantLock), () => reentrantLock.IsHeldByCurrentThread, () => reentrantLock.IsHeldByCurrentThread);
                default:
                    var condition = new Condition();

                    // The default lock exposes no state: it is held when another thread cannot take it.
                    bool HeldElsewhere() => !Concurrency.AssertCompletes(Concurrency.Run(condition.TryAcquire));
                    return new Subject(condition, HeldElsewhere, HeldElsewhere);
            }
        }

        /// <summary>Same as <see cref="IsHeldByWaiter"/>, usable inside the condition's own predicate.</summary>
        public bool IsHeldByWaiterOnThisThread() => _isHeldOnThisThread();
    }
}
