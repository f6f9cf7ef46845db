using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class ConditionTests
{
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
}
