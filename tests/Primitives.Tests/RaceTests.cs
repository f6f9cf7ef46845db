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

    [Fact(Timeout = 60_000)]
    public async Task ExclusiveLockAcquireAsync_RightAfterATimedWaitEndedAtItsDeadline_WaitsForTheHolder()
    {
        // A timed wait whose timer fires just as it is granted leaves a timer tick in flight; the
        // next wait must not be ended by that stale tick (a hold that was never granted).
        const int iterations = 1_000;
        var exclusiveLock = new ExclusiveLock();
        var random = new Random(8);
        var centerMicroseconds = 1_000;
        var (granted, timedOut) = (0, 0);

        for (var i = 0; i < iterations; i++)
        {
            exclusiveLock.Acquire();
            var racer = exclusiveLock.TryAcquireAsync(WaiterDeadline).AsTask();
            SpinFor(centerMicroseconds + random.Next(-100, 101));
            exclusiveLock.Release();
            if (await racer.WaitAsync(Concurrency.HangTimeout))
            {
                granted++;
                centerMicroseconds += 5;
            }
            else
            {
                timedOut++;
                centerMicroseconds -= 5;
                Assert.True(exclusiveLock.TryAcquire());
            }

            centerMicroseconds = Math.Clamp(centerMicroseconds, 0, 3_000);

            // The lock is held here, so this wait must stay pending until it is released.
            var next = exclusiveLock.AcquireAsync().AsTask();
            var timedNext = exclusiveLock.TryAcquireAsync(Concurrency.HangTimeout).AsTask();
            SpinFor(200);
            Assert.False(next.IsCompleted, $"Iteration {i}: an untimed wait completed while the lock was held.");
            Assert.False(timedNext.IsCompleted, $"Iteration {i}: a timed wait ended long before its deadline.");
            exclusiveLock.Release();
            await next.WaitAsync(Concurrency.HangTimeout);
            exclusiveLock.Release();
            Assert.True(await timedNext.WaitAsync(Concurrency.HangTimeout));
            exclusiveLock.Release();
            Assert.False(exclusiveLock.IsLocked);
        }

        output.WriteLine($"racer granted {granted}, timed out {timedOut}");
    }

    [Fact(Timeout = 30_000)]
    public async Task CountingSemaphoreAcquireAsync_StaleTimerTickOfTheReusedWaiter_DoesNotEndTheNextWait()
    {
        // White-box: a timed wait is granted while its timer tick stalls on the wait queue's lock (held here), and
        // its pooled node is reused by the next wait; the stale tick must not hand out a permit never released.
        var semaphore = new CountingSemaphore(0);
        var queue = (WaitQueue)typeof(CountingSemaphore)
            .GetFields(BindingFlags.Instance | BindingFlags.NonPublic)
            .Single(field => field.FieldType == typeof(WaitQueue) && field.Name == "_waiters")
            .GetValue(semaphore)!;
        var tickBegan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tickHandled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline.Primitives.Internal.Waiter.TimerTickObserver = (tickQueue, handled) =>
        {
            if (ReferenceEquals(tickQueue, queue))
            {
                (handled ? tickHandled : tickBegan).TrySetResult();
            }
        };
        try
        {
            var timed = semaphore.TryAcquireAsync(TimeSpan.FromMilliseconds(20));

            var next = await Concurrency.Run(() =>
            {
                using (queue.Sync.EnterScope())
                {
                    // The 20 ms tick has begun and is about to stall on this lock, held here.
                    Assert.True(tickBegan.Task.Wait(Concurrency.HangTimeout), "The timed wait's timer never fired.");
                    semaphore.Release();
                    Assert.True(Concurrency.CompletedResult(timed), "The timed wait should have been granted.");
                    return semaphore.AcquireAsync().AsTask();
                }
            }).WaitAsync(Concurrency.HangTimeout);

            // The stale tick has been handled before the one permit below is released: had it ended the untimed wait (reporting
            // a permit never released), that permit would be left over.
            await tickHandled.Task.WaitAsync(Concurrency.HangTimeout);
            Assert.False(next.IsCompleted, "A stale timer tick ended an untimed wait: it reports a permit that was never released.");
            semaphore.Release();
            await next.WaitAsync(Concurrency.HangTimeout);
        }
        finally
        {
            Pipeline.Primitives.Internal.Waiter.TimerTickObserver = null;
        }

        Assert.Equal(0, semaphore.CurrentCount);
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
    public async Task ExclusiveLock_TimedAndUntimedAsyncHoldersUnderContention_AreMutuallyExclusive()
    {
        // Timed waits time out all the time here, often just as they are granted, and their pooled
        // nodes are reused at once by other waits: a wait must end only by its own grant or deadline.
        var exclusiveLock = new ExclusiveLock();
        var stop = Stopwatch.StartNew();
        var duration = TimeSpan.FromSeconds(2);
        var inside = 0;
        var overlaps = 0;
        var holds = 0;
        var timeouts = 0;

        async Task Hold()
        {
            if (Interlocked.Increment(ref inside) != 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            Interlocked.Increment(ref holds);
            await Task.Yield();
            SpinFor(Random.Shared.Next(0, 500));
            Interlocked.Decrement(ref inside);
            exclusiveLock.Release();
        }

        var flows = Enumerable.Range(0, 8).Select(index => Task.Run(async () =>
        {
            var random = new Random(index);
            while (stop.Elapsed < duration)
            {
                if (index % 2 == 0)
                {
                    await exclusiveLock.AcquireAsync();
                    await Hold();
                }
                else if (await exclusiveLock.TryAcquireAsync(TimeSpan.FromMilliseconds(random.Next(1, 3))))
                {
                    await Hold();
                }
                else
                {
                    Interlocked.Increment(ref timeouts);
                }
            }
        })).ToArray();

        await Task.WhenAll(flows).WaitAsync(TimeSpan.FromSeconds(50));

        output.WriteLine($"holds {holds}, timeouts {timeouts}");
        Assert.Equal(0, overlaps);
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

    private static async Task<bool> WaitOrCancel(Condition condition, CancellationToken cancellationToken)
    {
        try
        {
            await condition.WaitAsync(cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> AcquireOrCancel(ValueTask pending)
    {
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

    /// <summary>
    /// Runs an action on a second thread at the same moment as the test thread runs its own:
    /// both leave a two-party barrier together, then one of them is delayed by a few
    /// microseconds. The delay adapts to the reported winners, so that the two actions keep
    /// landing on each other instead of one always going first.
    /// </summary>
    private sealed class Collider : IDisposable
    {
        private readonly Barrier _start = new(2);
        private readonly ManualResetEventSlim _theirsDone = new();
        private readonly Thread _thread;
        private Action? _theirs;
        private readonly Random _random = new(7);
        private int _skewMicroseconds;
        private int _centerMicroseconds;
        private volatile bool _stopping;

        public Collider()
        {
            _thread = new Thread(Run) { IsBackground = true };
            _thread.Start();
        }

        /// <summary>
        /// Runs <paramref name="theirs"/> on the collider thread and <paramref name="mine"/> here,
        /// together, and returns once both have finished.
        /// </summary>
        public void Collide(Action theirs, Action mine)
        {
            // A positive skew delays mine, a negative one delays theirs.
            var skewMicroseconds = _centerMicroseconds + _random.Next(-10, 11);
            _theirs = theirs;
            _skewMicroseconds = skewMicroseconds;
            _theirsDone.Reset();
            Assert.True(_start.SignalAndWait(Concurrency.HangTimeout), "The collider thread did not start its step.");
            SpinFor(skewMicroseconds);
            mine();
            Assert.True(_theirsDone.Wait(Concurrency.HangTimeout), "The other thread's step did not finish: it blocks on something this thread holds.");
        }

        /// <summary>Moves the delay toward the side that lost, so the next collision is closer.</summary>
        public void Report(bool mineWon) =>
            _centerMicroseconds = Math.Clamp(_centerMicroseconds + (mineWon ? 2 : -2), -2_000, 2_000);

        public void Dispose()
        {
            _stopping = true;
            _start.SignalAndWait(Concurrency.HangTimeout);
            _thread.Join(Concurrency.HangTimeout);
            _start.Dispose();
            _theirsDone.Dispose();
        }

        private void Run()
        {
            while (true)
            {
                if (!_start.SignalAndWait(TimeSpan.FromMinutes(5)) || _stopping)
                {
                    return;
                }

                SpinFor(-_skewMicroseconds);
                try
                {
                    _theirs!();
                }
                finally
                {
                    _theirsDone.Set();
                }
            }
        }
    }
}
