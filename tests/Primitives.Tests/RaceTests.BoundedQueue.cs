using System.Diagnostics;
using System.Reflection;
using Pipeline.Primitives.Internal;
using Xunit.Abstractions;

namespace Pipeline.Primitives.Tests;

public partial class RaceTests
{
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
