using System.Diagnostics;
using System.Reflection;
using Pipeline.Primitives.Internal;
using Xunit.Abstractions;

namespace Pipeline.Primitives.Tests;

public partial class RaceTests
{
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
}
