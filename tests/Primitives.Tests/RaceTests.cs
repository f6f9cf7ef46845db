using System.Diagnostics;
using Xunit.Abstractions;

namespace Pipeline.Primitives.Tests;

/// <summary>
/// Stress loops for the races the DESIGN rules out: a notification or a permit lost to a waiter
/// that gives up at the same moment, an item delivered twice or never, two lock holders at once.
/// Each iteration lands the release at a random point around the waiter's deadline.
/// </summary>
[Collection(SerialTestGroup.Name)]
public class RaceTests(ITestOutputHelper output)
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
        var (notified, gaveUp, notifiedAfterward) = (0, 0, 0);

        for (var i = 0; i < iterations; i++)
        {
            using var cancellation = new CancellationTokenSource();
            await condition.AcquireAsync();
            var racer = giveUp == "timeout"
                ? condition.WaitAsync(WaiterDeadline).AsTask()
                : WaitOrCancel(condition, cancellation);

            // The lock is taken back with a try: the racer may already have given up and hold it.
            if (!await condition.TryAcquireAsync(TimeSpan.Zero))
            {
                Assert.False(await racer.WaitAsync(Concurrency.HangTimeout));
                condition.Release();
                continue;
            }

            var other = condition.WaitAsync().AsTask();
            SpinFor(random.Next(0, 2_000));

            if (!await condition.TryAcquireAsync(TimeSpan.Zero))
            {
                // The racer gave up first and holds the lock again; notify as its holder.
                Assert.False(await racer.WaitAsync(Concurrency.HangTimeout));
                condition.Notify();
                condition.Release();
                notifiedAfterward++;
                gaveUp++;
                Assert.True(await Completes(other), $"Iteration {i}: the notification did not reach the only waiter.");
                condition.Release();
                continue;
            }

            condition.Notify();
            condition.Release();

            // Whichever was woken comes back holding the lock, so the first one back is released first.
            var firstBack = await Task.WhenAny(racer, other).WaitAsync(Concurrency.HangTimeout);
            if (firstBack == racer)
            {
                var racerNotified = await racer;
                condition.Release();
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
                condition.Release();
                Assert.False(await racer.WaitAsync(Concurrency.HangTimeout), $"Iteration {i}: one Notify woke two waiters.");
                condition.Release();
                gaveUp++;
            }
        }

        output.WriteLine($"racer notified {notified}, gave up {gaveUp} (of which {notifiedAfterward} before the notify)");
    }

    [Theory]
    [InlineData("exclusive", "timeout")]
    [InlineData("exclusive", "cancellation")]
    [InlineData("reentrant", "timeout")]
    [InlineData("reentrant", "cancellation")]
    public void ConditionNotify_RacingABlockedWaitersTimeoutOrCancellation_IsNeverLost(string kind, string giveUp)
    {
        const int iterations = 500;
        var condition = kind == "exclusive" ? new Condition(new ExclusiveLock()) : new Condition(new ReentrantLock());
        var random = new Random(3);
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

                cancellation.CancelAfter(WaiterDeadline);
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

            SpinFor(random.Next(0, 2_000));
            condition.Acquire();
            condition.Notify();
            condition.Release();

            if (racer.Result<bool>())
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
        var (acquired, gaveUp) = (0, 0);

        for (var i = 0; i < iterations; i++)
        {
            using var cancellation = new CancellationTokenSource();
            var racer = giveUp == "timeout"
                ? semaphore.TryAcquireAsync(WaiterDeadline).AsTask()
                : AcquireOrCancel(semaphore, cancellation);
            var other = semaphore.AcquireAsync().AsTask();

            SpinFor(random.Next(0, 2_000));
            semaphore.Release();

            if (await racer.WaitAsync(Concurrency.HangTimeout))
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

    [Theory]
    [InlineData("timeout")]
    [InlineData("cancellation")]
    public void SemaphoreRelease_RacingABlockedAcquirerGivingUp_NeverLosesThePermit(string giveUp)
    {
        const int iterations = 500;
        var semaphore = new CountingSemaphore(0);
        var random = new Random(5);

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

                cancellation.CancelAfter(WaiterDeadline);
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
            racer.WaitEntering();
            var other = Waiter.Start(waiter =>
            {
                waiter.Enter();
                return semaphore.TryAcquire(Concurrency.HangTimeout);
            });
            other.WaitEntering();

            SpinFor(random.Next(0, 2_000));
            semaphore.Release();

            if (racer.Result<bool>())
            {
                semaphore.Release();
            }

            Assert.True(other.Result<bool>(), $"Iteration {i}: the permit was lost with an acquirer that gave up.");
            Assert.Equal(0, semaphore.CurrentCount);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("timeout")]
    [InlineData("cancellation")]
    public async Task ExclusiveLockRelease_RacingAnAsyncAcquirerGivingUp_NeverLosesTheLock(string giveUp)
    {
        const int iterations = 2_000;
        var exclusiveLock = new ExclusiveLock();
        var random = new Random(6);

        for (var i = 0; i < iterations; i++)
        {
            using var cancellation = new CancellationTokenSource();
            exclusiveLock.Acquire();
            var racer = giveUp == "timeout"
                ? exclusiveLock.TryAcquireAsync(WaiterDeadline).AsTask()
                : AcquireOrCancel(exclusiveLock, cancellation);
            var other = exclusiveLock.AcquireAsync().AsTask();

            SpinFor(random.Next(0, 2_000));
            exclusiveLock.Release();

            if (await racer.WaitAsync(Concurrency.HangTimeout))
            {
                exclusiveLock.Release();
            }

            Assert.True(await Completes(other), $"Iteration {i}: the lock was lost with an acquirer that gave up.");
            Assert.True(exclusiveLock.IsLocked);
            exclusiveLock.Release();
            Assert.False(exclusiveLock.IsLocked);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ExclusiveLock_SyncAndAsyncHolders_AreMutuallyExclusive()
    {
        const int perWorker = 20_000;
        var exclusiveLock = new ExclusiveLock();
        var counter = 0;
        var inside = 0;
        var overlaps = 0;

        void Critical()
        {
            if (Interlocked.Increment(ref inside) != 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            counter++;
            Interlocked.Decrement(ref inside);
        }

        var threads = Enumerable.Range(0, 2).Select(index => Concurrency.Run(() =>
        {
            for (var i = 0; i < perWorker; i++)
            {
                if (index == 0)
                {
                    exclusiveLock.Acquire();
                }
                else
                {
                    while (!exclusiveLock.TryAcquire(TimeSpan.FromMilliseconds(1)))
                    {
                    }
                }

                Critical();
                exclusiveLock.Release();
            }
        }));
        var flows = Enumerable.Range(0, 2).Select(index => Task.Run(async () =>
        {
            for (var i = 0; i < perWorker; i++)
            {
                if (index == 0)
                {
                    using (await exclusiveLock.LockAsync())
                    {
                        Critical();
                    }
                }
                else
                {
                    await exclusiveLock.AcquireAsync();
                    Critical();
                    exclusiveLock.Release();
                }
            }
        }));

        await Task.WhenAll(threads.Concat(flows)).WaitAsync(TimeSpan.FromSeconds(50));

        Assert.Equal(0, overlaps);
        Assert.Equal(4 * perWorker, counter);
        Assert.False(exclusiveLock.IsLocked);
    }

    [Fact(Timeout = 60_000)]
    public async Task BoundedQueue_SeveralProducersAndConsumersWithCancellations_DeliverEveryItemExactlyOnce()
    {
        const int producers = 4;
        const int perProducer = 5_000;
        var queue = new BoundedQueue<int>(8);
        var cancelledPuts = 0;
        var cancelledTakes = 0;

        // Every eighth wait carries a token that fires within a millisecond; a cancelled put is
        // retried with the same item, so an item is lost or doubled only if cancellation is inexact.
        CancellationTokenSource? MaybeDeadline(Random random) =>
            random.Next(8) == 0 ? new CancellationTokenSource(TimeSpan.FromTicks(random.Next(1, 10_000))) : null;

        var producerTasks = Enumerable.Range(0, producers).Select(producer =>
        {
            var items = Enumerable.Range(producer * perProducer, perProducer);
            if (producer % 2 == 0)
            {
                return Concurrency.Run(() =>
                {
                    var random = new Random(producer);
                    foreach (var item in items)
                    {
                        while (true)
                        {
                            using var deadline = MaybeDeadline(random);
                            try
                            {
                                if (random.Next(2) == 0)
                                {
                                    queue.Put(item, deadline?.Token ?? default);
                                    break;
                                }

                                if (queue.TryPut(item, TimeSpan.FromMilliseconds(1), deadline?.Token ?? default))
                                {
                                    break;
                                }
                            }
                            catch (OperationCanceledException)
                            {
                                Interlocked.Increment(ref cancelledPuts);
                            }
                        }
                    }
                });
            }

            return Task.Run(async () =>
            {
                var random = new Random(producer);
                foreach (var item in items)
                {
                    while (true)
                    {
                        using var deadline = MaybeDeadline(random);
                        try
                        {
                            await queue.PutAsync(item, deadline?.Token ?? default);
                            break;
                        }
                        catch (OperationCanceledException)
                        {
                            Interlocked.Increment(ref cancelledPuts);
                        }
                    }
                }
            });
        }).ToArray();

        var consumerTasks = Enumerable.Range(0, 4).Select(consumer =>
        {
            var taken = new List<int>();
            if (consumer % 2 == 0)
            {
                return Concurrency.Run(() =>
                {
                    var random = new Random(100 + consumer);
                    try
                    {
                        while (true)
                        {
                            using var deadline = MaybeDeadline(random);
                            try
                            {
                                if (random.Next(2) == 0)
                                {
                                    taken.Add(queue.Take(deadline?.Token ?? default));
                                    queue.TaskDone();
                                }
                                else if (queue.TryTake(out var item, TimeSpan.FromMilliseconds(1), deadline?.Token ?? default))
                                {
                                    taken.Add(item);
                                    queue.TaskDone();
                                }
                            }
                            catch (OperationCanceledException)
                            {
                                Interlocked.Increment(ref cancelledTakes);
                            }
                        }
                    }
                    catch (QueueShutDownException)
                    {
                        return taken;
                    }
                });
            }

            return Task.Run(async () =>
            {
                var random = new Random(100 + consumer);
                try
                {
                    while (true)
                    {
                        using var deadline = MaybeDeadline(random);
                        try
                        {
                            taken.Add(await queue.TakeAsync(deadline?.Token ?? default));
                            queue.TaskDone();
                        }
                        catch (OperationCanceledException)
                        {
                            Interlocked.Increment(ref cancelledTakes);
                        }
                    }
                }
                catch (QueueShutDownException)
                {
                    return taken;
                }
            });
        }).ToArray();

        await Task.WhenAll(producerTasks).WaitAsync(TimeSpan.FromSeconds(40));
        await queue.JoinAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        queue.Shutdown();
        var delivered = (await Task.WhenAll(consumerTasks).WaitAsync(Concurrency.HangTimeout)).SelectMany(taken => taken).ToList();

        output.WriteLine($"cancelled puts {cancelledPuts}, cancelled takes {cancelledTakes}");
        Assert.Equal(producers * perProducer, delivered.Count);
        Assert.Equal(Enumerable.Range(0, producers * perProducer), delivered.Order());
        Assert.Equal(0, queue.Count);
    }

    /// <summary>Busy-waits for about <paramref name="microseconds"/>, to move the release around the deadline.</summary>
    private static void SpinFor(int microseconds)
    {
        var until = Stopwatch.GetTimestamp() + (microseconds * Stopwatch.Frequency / 1_000_000);
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(10);
        }
    }

    private static async Task<bool> Completes(Task task)
    {
        try
        {
            await task.WaitAsync(Concurrency.HangTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static async Task<bool> WaitOrCancel(Condition condition, CancellationTokenSource cancellation)
    {
        var pending = condition.WaitAsync(cancellation.Token);
        cancellation.CancelAfter(WaiterDeadline);
        try
        {
            await pending;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> AcquireOrCancel(CountingSemaphore semaphore, CancellationTokenSource cancellation)
    {
        var pending = semaphore.AcquireAsync(cancellation.Token);
        cancellation.CancelAfter(WaiterDeadline);
        try
        {
            await pending;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> AcquireOrCancel(ExclusiveLock exclusiveLock, CancellationTokenSource cancellation)
    {
        var pending = exclusiveLock.AcquireAsync(cancellation.Token);
        cancellation.CancelAfter(WaiterDeadline);
        try
        {
            await pending;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Starts a thread that waits on <paramref name="condition"/> and returns once it is inside the wait.</summary>
    private static Waiter StartWaiting(Condition condition, Func<bool> wait)
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
}
