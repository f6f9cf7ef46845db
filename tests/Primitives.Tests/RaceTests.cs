using System.Diagnostics;
using System.Reflection;
using Pipeline.Primitives.Internal;
using Xunit.Abstractions;

namespace Pipeline.Primitives.Tests;

/// <summary>
/// Stress loops for the races the DESIGN rules out: a notification or a permit lost to a waiter
/// that gives up at the same moment, an item delivered twice or never, two lock holders at once.
/// Each iteration lands the release at a random point around the waiter's deadline.
/// </summary>
[Collection(SerialTestGroup.Name)]
public partial class RaceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan WaiterDeadline = TimeSpan.FromMilliseconds(1);

    [Theory(Timeout = 60_000)]
    [InlineData("timeout")]
    [InlineData("cancellation")]
    public async Task ConditionNotify_RacingAnAsyncWaiterGivingUp_IsNeverLost(string giveUp)
    {
        const int iterations = 2_000;
        var condition = new Condition();
        var random = new Random(1);
        using var collider = new Collider();
        var (notified, gaveUp, gaveUpFirst) = (0, 0, 0);

        for (var i = 0; i < iterations; i++)
        {
            using var cancellation = new CancellationTokenSource();
            await condition.AcquireAsync();
            var racer = giveUp == "timeout"
                ? condition.WaitAsync(WaiterDeadline).AsTask()
                : WaitOrCancel(condition, cancellation.Token);

            // The lock is taken back with a try: a timed racer may already have given up and hold it.
            if (!await condition.TryAcquireAsync(TimeSpan.Zero))
            {
                Assert.False(await racer.WaitAsync(Concurrency.HangTimeout));
                condition.Release();
                continue;
            }

            var other = condition.WaitAsync().AsTask();
            if (giveUp == "timeout")
            {
                SpinFor(random.Next(0, 2_000));
                if (!await condition.TryAcquireAsync(TimeSpan.Zero))
                {
                    // The racer gave up first and holds the lock again; notify as its holder.
                    Assert.False(await racer.WaitAsync(Concurrency.HangTimeout));
                    condition.Notify();
                    condition.Release();
                    gaveUpFirst++;
                    Assert.True(await Completes(other), $"Iteration {i}: the notification did not reach the only waiter.");
                    condition.Release();
                    continue;
                }

                condition.Notify();
            }
            else
            {
                await condition.AcquireAsync();
                collider.Collide(cancellation.Cancel, () => condition.Notify());
            }

            condition.Release();

            // Whichever was woken comes back holding the lock, so the first one back is released first.
            var firstBack = await Task.WhenAny(racer, other).WaitAsync(Concurrency.HangTimeout);
            if (firstBack == racer)
            {
                var racerNotified = await racer;
                condition.Release();
                collider.Report(racerNotified);
                if (racerNotified)
                {
                    notified++;
                    await condition.AcquireAsync();
                    condition.NotifyAll();
                    condition.Release();
                }
                else
                {
                    gaveUp++;
                }

                Assert.True(await Completes(other), $"Iteration {i}: the notification was lost with a waiter that gave up.");
                condition.Release();
            }
            else
            {
                collider.Report(false);
                condition.Release();
                Assert.False(await racer.WaitAsync(Concurrency.HangTimeout), $"Iteration {i}: one Notify woke two waiters.");
                condition.Release();
                gaveUp++;
            }
        }

        output.WriteLine($"racer notified {notified}, gave up at the notify {gaveUp}, gave up before it {gaveUpFirst}");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("exclusive", "timeout")]
    [InlineData("exclusive", "cancellation")]
    [InlineData("reentrant", "timeout")]
    [InlineData("reentrant", "cancellation")]
    public async Task ConditionNotify_RacingABlockedWaitersTimeoutOrCancellation_IsNeverLost(string kind, string giveUp)
    {
        await Task.Yield();
        const int iterations = 500;
        var condition = kind == "exclusive" ? new Condition(new ExclusiveLock()) : new Condition(new ReentrantLock());
        var random = new Random(3);
        using var collider = new Collider();
        var (notified, gaveUp) = (0, 0);

        for (var i = 0; i < iterations; i++)
        {
            using var cancellation = new CancellationTokenSource();
            var racer = StartWaiting(condition, () =>
            {
                if (giveUp == "timeout")
                {
                    return condition.Wait(WaiterDeadline);
                }

                try
                {
                    condition.Wait(cancellation.Token);
                    return true;
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            });
            var other = StartWaiting(condition, () => condition.Wait(Concurrency.HangTimeout));

            if (giveUp == "timeout")
            {
                SpinFor(random.Next(0, 2_000));
                condition.Acquire();
                condition.Notify();
            }
            else
            {
                condition.Acquire();
                collider.Collide(cancellation.Cancel, () => condition.Notify());
            }

            condition.Release();

            var racerWon = racer.Result<bool>();
            collider.Report(racerWon);
            if (racerWon)
            {
                notified++;
                condition.Acquire();
                condition.NotifyAll();
                condition.Release();
            }
            else
            {
                gaveUp++;
            }

            Assert.True(other.Result<bool>(), $"Iteration {i}: the notification was lost with a waiter that gave up.");
        }

        output.WriteLine($"racer notified {notified}, gave up {gaveUp}");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("counting", "timeout")]
    [InlineData("counting", "cancellation")]
    [InlineData("bounded", "timeout")]
    [InlineData("bounded", "cancellation")]
    public async Task SemaphoreRelease_RacingAnAsyncAcquirerGivingUp_NeverLosesThePermit(string kind, string giveUp)
    {
        const int iterations = 2_000;
        CountingSemaphore semaphore = kind == "counting" ? new CountingSemaphore(0) : new BoundedSemaphore(0, 2);
        var random = new Random(4);
        using var collider = new Collider();
        var (acquired, gaveUp) = (0, 0);

        for (var i = 0; i < iterations; i++)
        {
            using var cancellation = new CancellationTokenSource();
            var racer = giveUp == "timeout"
                ? semaphore.TryAcquireAsync(WaiterDeadline).AsTask()
                : AcquireOrCancel(semaphore.AcquireAsync(cancellation.Token));
            var other = semaphore.AcquireAsync().AsTask();

            if (giveUp == "timeout")
            {
                SpinFor(random.Next(0, 2_000));
                semaphore.Release();
            }
            else
            {
                collider.Collide(cancellation.Cancel, () => semaphore.Release());
            }

            var racerWon = await racer.WaitAsync(Concurrency.HangTimeout);
            collider.Report(racerWon);
            if (racerWon)
            {
                acquired++;
                semaphore.Release();
            }
            else
            {
                gaveUp++;
            }

            Assert.True(await Completes(other), $"Iteration {i}: the permit was lost with an acquirer that gave up.");
            Assert.Equal(0, semaphore.CurrentCount);
            semaphore.Release();
            Assert.True(semaphore.TryAcquire());
        }

        output.WriteLine($"racer acquired {acquired}, gave up {gaveUp}");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("timeout")]
    [InlineData("cancellation")]
    public async Task SemaphoreRelease_RacingABlockedAcquirerGivingUp_NeverLosesThePermit(string giveUp)
    {
        await Task.Yield();
        const int iterations = 300;
        var semaphore = new CountingSemaphore(0);
        var random = new Random(5);
        using var collider = new Collider();
        var (acquired, gaveUp) = (0, 0);

        for (var i = 0; i < iterations; i++)
        {
            using var cancellation = new CancellationTokenSource();
            var racer = Waiter.Start(waiter =>
            {
                waiter.Enter();
                if (giveUp == "timeout")
                {
                    return semaphore.TryAcquire(WaiterDeadline);
                }

                try
                {
                    semaphore.Acquire(cancellation.Token);
                    return true;
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            });
            Task other;
            if (giveUp == "timeout")
            {
                racer.WaitEntering();
                other = semaphore.AcquireAsync().AsTask();
                SpinFor(random.Next(0, 2_000));
                semaphore.Release();
            }
            else
            {
                // Parked first, so the racer is ahead of the other acquirer in the queue.
                racer.WaitParked();
                other = semaphore.AcquireAsync().AsTask();
                collider.Collide(cancellation.Cancel, () => semaphore.Release());
            }

            var racerWon = racer.Result<bool>();
            collider.Report(racerWon);
            if (racerWon)
            {
                acquired++;
                semaphore.Release();
            }
            else
            {
                gaveUp++;
            }

            Assert.True(Completes(other).GetAwaiter().GetResult(), $"Iteration {i}: the permit was lost with an acquirer that gave up.");
            Assert.Equal(0, semaphore.CurrentCount);
        }

        output.WriteLine($"racer acquired {acquired}, gave up {gaveUp}");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("timeout")]
    [InlineData("cancellation")]
    public async Task ExclusiveLockRelease_RacingAnAsyncAcquirerGivingUp_NeverLosesTheLock(string giveUp)
    {
        const int iterations = 2_000;
        var exclusiveLock = new ExclusiveLock();
        var random = new Random(6);
        using var collider = new Collider();
        var (acquired, gaveUp) = (0, 0);

        for (var i = 0; i < iterations; i++)
        {
            using var cancellation = new CancellationTokenSource();
            exclusiveLock.Acquire();
            var racer = giveUp == "timeout"
                ? exclusiveLock.TryAcquireAsync(WaiterDeadline).AsTask()
                : AcquireOrCancel(exclusiveLock.AcquireAsync(cancellation.Token));
            var other = exclusiveLock.AcquireAsync().AsTask();

            if (giveUp == "timeout")
            {
                SpinFor(random.Next(0, 2_000));
                exclusiveLock.Release();
            }
            else
            {
                collider.Collide(cancellation.Cancel, exclusiveLock.Release);
            }

            var racerWon = await racer.WaitAsync(Concurrency.HangTimeout);
            collider.Report(racerWon);
            if (racerWon)
            {
                acquired++;
                exclusiveLock.Release();
            }
            else
            {
                gaveUp++;
            }

            Assert.True(await Completes(other), $"Iteration {i}: the lock was lost with an acquirer that gave up.");
            Assert.True(exclusiveLock.IsLocked);
            exclusiveLock.Release();
            Assert.False(exclusiveLock.IsLocked);
        }

        output.WriteLine($"racer acquired {acquired}, gave up {gaveUp}");
    }
}
