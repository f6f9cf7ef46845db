using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class BoundedQueueTests
{
    // test_shutdown_all_methods_in_many_threads (+ _immediate_)
    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Shutdown_WhileManyThreadsPutAndTake_EveryoneSeesShutdownAndNoItemIsLost(bool immediate)
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(4);
        var put = 0;
        var taken = 0;
        var writers = Enumerable.Range(0, 4).Select(_ => Concurrency.Run(() =>
        {
            try
            {
                for (var i = 0; ; i++)
                {
                    if (i % 2 == 0)
                    {
                        queue.Put(i);
                    }
                    else if (!queue.TryPut(i, TimeSpan.FromMilliseconds(1)))
                    {
                        continue;
                    }

                    Interlocked.Increment(ref put);
                }
            }
            catch (QueueShutDownException)
            {
                return true;
            }
        })).ToArray();
        var readers = Enumerable.Range(0, 6).Select(index => Concurrency.Run(() =>
        {
            try
            {
                while (true)
                {
                    if (index % 2 == 0)
                    {
                        queue.Take();
                    }
                    else if (!queue.TryTake(out _))
                    {
                        Thread.Yield();
                        continue;
                    }

                    Interlocked.Increment(ref taken);
                }
            }
            catch (QueueShutDownException)
            {
                return true;
            }
        })).ToArray();
        Concurrency.WaitUntil(() => Volatile.Read(ref taken) >= 5_000, "items to flow");

        var undelivered = immediate ? queue.ShutdownNow().Count : 0;
        if (!immediate)
        {
            queue.Shutdown();
        }

        Assert.All(Concurrency.AssertCompletes(Task.WhenAll(writers)), Assert.True);
        Assert.All(Concurrency.AssertCompletes(Task.WhenAll(readers)), Assert.True);
        Assert.Equal(0, queue.Count);
        Assert.Equal(Volatile.Read(ref put), Volatile.Read(ref taken) + undelivered);
    }

    [Fact(Timeout = 30_000)]
    public async Task Take_CancelledWhileWaiting_ThrowsAndTakesNothing()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(2);
        using var cancellation = new CancellationTokenSource();
        var taker = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.Take(cancellation.Token);
        });
        var timedTaker = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.TryTake(out _, TimeSpan.FromSeconds(30), cancellation.Token);
        });
        taker.WaitEntering();
        timedTaker.WaitEntering();
        taker.AssertStaysBlocked();

        cancellation.Cancel();

        taker.AssertFails<OperationCanceledException>();
        timedTaker.AssertFails<OperationCanceledException>();
        queue.Put(1);
        Assert.Equal(1, queue.Count);
        Assert.Equal(1, queue.Take());
    }

    [Fact(Timeout = 30_000)]
    public async Task TakeAsync_CancelledWhileWaiting_ThrowsAndTheItemGoesToTheNextTaker()
    {
        var queue = new BoundedQueue<int>(2);
        using var cancellation = new CancellationTokenSource();
        var cancelled = queue.TakeAsync(cancellation.Token).AsTask();
        var next = queue.TakeAsync().AsTask();

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));
        await queue.PutAsync(5);

        Assert.Equal(5, await next.WaitAsync(Concurrency.HangTimeout));
        Assert.Equal(0, queue.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task Put_CancelledWhileWaiting_ThrowsAndDoesNotAddTheItem()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(1);
        queue.Put(1);
        using var cancellation = new CancellationTokenSource();
        var putter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            queue.Put(2, cancellation.Token);
        });
        var timedPutter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.TryPut(3, TimeSpan.FromSeconds(30), cancellation.Token);
        });
        putter.WaitEntering();
        timedPutter.WaitEntering();
        putter.AssertStaysBlocked();

        cancellation.Cancel();

        putter.AssertFails<OperationCanceledException>();
        timedPutter.AssertFails<OperationCanceledException>();
        Assert.Equal(1, queue.Count);
        Assert.Equal(1, queue.Take());
        Assert.False(queue.TryTake(out _));
    }

    [Fact(Timeout = 30_000)]
    public async Task PutAsync_CancelledWhileWaiting_ThrowsAndDoesNotAddTheItem()
    {
        var queue = new BoundedQueue<int>(1);
        await queue.PutAsync(1);
        using var cancellation = new CancellationTokenSource();
        var cancelled = queue.PutAsync(2, cancellation.Token).AsTask();
        var next = queue.PutAsync(3).AsTask();

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Concurrency.HangTimeout));

        Assert.Equal(1, await queue.TakeAsync());
        await next.WaitAsync(Concurrency.HangTimeout);
        Assert.Equal(3, await queue.TakeAsync());
        Assert.False(queue.TryTake(out _));
    }

    [Fact(Timeout = 30_000)]
    public async Task PutAndTake_PreCancelled_ThrowWithoutChangingTheQueue()
    {
        var full = new BoundedQueue<int>(1);
        full.Put(1);
        var empty = new BoundedQueue<int>(1);

        Assert.ThrowsAny<OperationCanceledException>(() => full.Put(2, Concurrency.CancelledToken()));
        Assert.ThrowsAny<OperationCanceledException>(() => full.TryPut(2, TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await full.PutAsync(2, Concurrency.CancelledToken()));
        Assert.ThrowsAny<OperationCanceledException>(() => empty.Take(Concurrency.CancelledToken()));
        Assert.ThrowsAny<OperationCanceledException>(() => empty.TryTake(out _, TimeSpan.FromSeconds(5), Concurrency.CancelledToken()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await empty.TakeAsync(Concurrency.CancelledToken()));

        Assert.Equal(1, full.Count);
        Assert.Equal(1, full.Take());
        Assert.Equal(0, empty.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task TakeAsync_SeveralTakers_ServedInArrivalOrder()
    {
        var queue = new BoundedQueue<int>(4);
        var takers = Enumerable.Range(0, 4).Select(_ => queue.TakeAsync().AsTask()).ToList();

        for (var item = 0; item < 4; item++)
        {
            await queue.PutAsync(item);
            Assert.Equal(item, await takers[item].WaitAsync(Concurrency.HangTimeout));
            Assert.All(takers.Skip(item + 1), taker => Assert.False(taker.IsCompleted));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task PutAsync_SeveralPuttersOnAFullQueue_EnterInArrivalOrder()
    {
        var queue = new BoundedQueue<int>(1);
        await queue.PutAsync(0);
        var putters = Enumerable.Range(1, 4).Select(item => queue.PutAsync(item).AsTask()).ToList();

        for (var expected = 0; expected < 5; expected++)
        {
            Assert.Equal(expected, await queue.TakeAsync().AsTask().WaitAsync(Concurrency.HangTimeout));
        }

        await Task.WhenAll(putters).WaitAsync(Concurrency.HangTimeout);
    }

    [Fact(Timeout = 30_000)]
    public async Task Take_SeveralThreads_ServedInArrivalOrder()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(4);
        var takers = new List<Waiter>();
        for (var index = 0; index < 3; index++)
        {
            var taker = Waiter.Start(waiter =>
            {
                waiter.Enter();
                return queue.Take();
            });
            taker.WaitParked();
            takers.Add(taker);
        }

        for (var item = 0; item < 3; item++)
        {
            queue.Put(item);
            Assert.Equal(item, takers[item].Result<int>());
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference PutAndTakeOne(BoundedQueue<object> queue)
    {
        var item = new object();
        queue.Put(item);
        Assert.Same(item, queue.Take());
        return new WeakReference(item);
    }

    private static async Task<WeakReference> PutAndTakeOneAsync(BoundedQueue<object> queue)
    {
        var item = new object();
        await queue.PutAsync(item);
        Assert.Same(item, await queue.TakeAsync());
        return new WeakReference(item);
    }

    private static void BasicQueueTest(BoundedQueue<int> queue)
    {
        Assert.Equal(0, queue.Count);
        queue.Put(111);
        queue.Put(333);
        queue.Put(222);
        Assert.Equal(111, queue.Take());
        Assert.Equal(333, queue.Take());
        Assert.Equal(222, queue.Take());

        for (var i = 0; i < queue.Capacity; i++)
        {
            queue.Put(i);
            Assert.Equal(i + 1, queue.Count);
        }

        Assert.Equal(queue.Capacity, queue.Count);
        Assert.False(queue.TryPut(-1));
        Assert.False(queue.TryPut(-1, TimeSpan.FromMilliseconds(10)));

        // A blocking put really blocks until another thread takes.
        var putter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            queue.Put(100);
        });
        putter.WaitEntering();
        putter.AssertStaysBlocked();
        Assert.Equal(0, queue.Take());
        putter.AssertCompleted();

        var timedPutter = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.TryPut(101, TimeSpan.FromSeconds(10));
        });
        timedPutter.WaitEntering();
        timedPutter.AssertStaysBlocked();
        Assert.Equal(1, queue.Take());
        Assert.True(timedPutter.Result<bool>());

        var drained = new List<int>();
        while (queue.TryTake(out var item))
        {
            drained.Add(item);
        }

        Assert.Equal([2, 3, 4, 100, 101], drained);
        Assert.False(queue.TryTake(out _, TimeSpan.FromMilliseconds(10)));

        // A blocking take really blocks until another thread puts.
        var taker = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.Take();
        });
        taker.WaitEntering();
        taker.AssertStaysBlocked();
        queue.Put(7);
        Assert.Equal(7, taker.Result<int>());

        var timedTaker = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.TryTake(out var item, TimeSpan.FromSeconds(10)) ? item : -1;
        });
        timedTaker.WaitEntering();
        timedTaker.AssertStaysBlocked();
        queue.Put(8);
        Assert.Equal(8, timedTaker.Result<int>());
        Assert.Equal(0, queue.Count);
    }
}
