using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class BoundedQueueTests
{
    private static readonly TimeSpan NegativeTimeout = TimeSpan.FromMilliseconds(-2);

    [Theory(Timeout = 30_000)]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task Constructor_CapacityBelowOne_ThrowsArgumentExceptionNamingIt(int capacity)
    {
        await Task.Yield();
        var exception = Assert.ThrowsAny<ArgumentException>(() => new BoundedQueue<int>(capacity));

        Assert.Equal("capacity", exception.ParamName);
    }

    [Fact(Timeout = 30_000)]
    public async Task Constructor_Valid_IsEmptyAndOpen()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(3);

        Assert.Equal(3, queue.Capacity);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.IsShutdown);
    }

    // test_queue_task_done
    [Fact(Timeout = 30_000)]
    public async Task TaskDone_OnAFreshQueue_ThrowsInvalidOperation()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(1);

        Assert.Throws<InvalidOperationException>(queue.TaskDone);
    }

    [Fact(Timeout = 30_000)]
    public async Task TaskDone_MoreOftenThanItemsTaken_ThrowsInvalidOperation()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(3);
        queue.Put(1);
        queue.Put(2);
        Assert.Equal(1, queue.Take());

        queue.TaskDone();

        Assert.Throws<InvalidOperationException>(queue.TaskDone);
        Assert.Equal(1, queue.Count);
    }

    // test_queue_join (run twice)
    [Fact(Timeout = 30_000)]
    public async Task Join_WorkersMarkEveryItemDone_ReturnsOnceAllAreProcessed()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(10);
        var total = 0;
        var workers = Enumerable.Range(0, 2).Select(_ => Concurrency.Run(() =>
        {
            while (true)
            {
                var item = queue.Take();
                if (item < 0)
                {
                    queue.TaskDone();
                    return;
                }

                Interlocked.Add(ref total, item);
                queue.TaskDone();
            }
        })).ToArray();

        for (var round = 0; round < 2; round++)
        {
            Volatile.Write(ref total, 0);
            for (var item = 0; item < 100; item++)
            {
                queue.Put(item);
            }

            Concurrency.AssertCompletes(Concurrency.Run(() => queue.Join()));
            Assert.Equal(4950, Volatile.Read(ref total));
        }

        queue.Put(-1);
        queue.Put(-1);
        Concurrency.AssertCompletes(Concurrency.Run(() => queue.Join()));
        Concurrency.AssertCompletes(Task.WhenAll(workers));
        Assert.Throws<InvalidOperationException>(queue.TaskDone);
    }

    [Fact(Timeout = 30_000)]
    public async Task JoinAsync_ItemsOutstanding_CompletesAfterTheLastTaskDone()
    {
        var queue = new BoundedQueue<string>(4);
        await queue.PutAsync("a");
        await queue.PutAsync("b");

        var joined = queue.JoinAsync().AsTask();
        Assert.Equal("a", await queue.TakeAsync());
        queue.TaskDone();
        Assert.Equal("b", await queue.TakeAsync());
        Assert.False(joined.IsCompleted);
        queue.TaskDone();

        await joined.WaitAsync(Concurrency.HangTimeout);
        Concurrency.Completed(queue.JoinAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task Join_NothingOutstanding_ReturnsAtOnce()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(1);

        Concurrency.AssertCompletes(Concurrency.Run(() => queue.Join()));
        Concurrency.Completed(queue.JoinAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task Join_Cancelled_ThrowsAndLeavesTheAccountingAlone()
    {
        var queue = new BoundedQueue<int>(1);
        queue.Put(1);
        using var cancellation = new CancellationTokenSource();
        var joiner = Waiter.Start(waiter =>
        {
            waiter.Enter();
            queue.Join(cancellation.Token);
        });
        var asyncJoiner = queue.JoinAsync(cancellation.Token).AsTask();
        joiner.WaitEntering();
        joiner.AssertStaysBlocked();

        cancellation.Cancel();

        joiner.AssertFails<OperationCanceledException>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => asyncJoiner.WaitAsync(Concurrency.HangTimeout));
        var stillJoining = queue.JoinAsync().AsTask();
        Assert.Equal(1, queue.Take());
        queue.TaskDone();
        await stillJoining.WaitAsync(Concurrency.HangTimeout);
    }

    // test_basic (basic_queue_test, run twice on Queue(5))
    [Fact(Timeout = 30_000)]
    public async Task PutAndTake_BasicScenario_KeepsFifoOrderAndBlocksWhenFullOrEmpty()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(5);

        BasicQueueTest(queue);
        BasicQueueTest(queue);
    }

    // test_negative_timeout_raises_exception
    [Fact(Timeout = 30_000)]
    public async Task TryPutAndTryTake_NegativeTimeout_ThrowArgumentOutOfRangeEvenWhenTheyCouldSucceed()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(5);

        Assert.Throws<ArgumentOutOfRangeException>(() => queue.TryPut(1, NegativeTimeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.TryPut(1, TimeSpan.FromSeconds(-1)));
        Assert.Equal(0, queue.Count);

        queue.Put(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.TryTake(out _, TimeSpan.FromSeconds(-1)));
        Assert.Equal(1, queue.Count);
    }

    // test_nowait
    [Fact(Timeout = 30_000)]
    public async Task TryPutAndTryTake_WithoutTimeout_FailWhenFullOrEmpty()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(5);

        for (var i = 0; i < 5; i++)
        {
            Assert.True(queue.TryPut(i));
        }

        Assert.False(queue.TryPut(5));
        for (var i = 0; i < 5; i++)
        {
            Assert.True(queue.TryTake(out var item));
            Assert.Equal(i, item);
        }

        Assert.False(queue.TryTake(out _));
        Assert.Equal(0, queue.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryPutAndTryTake_ZeroTimeout_NeverWait()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(1);
        var clock = Stopwatch.StartNew();

        Assert.False(queue.TryTake(out _, TimeSpan.Zero));
        Assert.True(queue.TryPut(1, TimeSpan.Zero));
        Assert.False(queue.TryPut(2, TimeSpan.Zero));
        Assert.True(queue.TryTake(out var item, TimeSpan.Zero));

        Assert.Equal(1, item);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact(Timeout = 30_000)]
    public async Task TryPutAndTryTake_InfiniteTimeout_WaitForTheOtherSide()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(1);
        var taker = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.TryTake(out var item, Timeout.InfiniteTimeSpan) ? item : -1;
        });
        taker.WaitEntering();
        taker.AssertStaysBlocked();

        Assert.True(queue.TryPut(7, Timeout.InfiniteTimeSpan));

        Assert.Equal(7, taker.Result<int>());
    }

    [Fact(Timeout = 30_000)]
    public async Task TryPut_TimedOut_DoesNotAddTheItem()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(1);
        queue.Put(1);
        var timeout = TimeSpan.FromMilliseconds(100);
        var clock = Stopwatch.StartNew();

        Assert.False(queue.TryPut(2, timeout));

        Concurrency.AssertDuration(clock.Elapsed, timeout);
        Assert.Equal(1, queue.Count);
        Assert.Equal(1, queue.Take());
        Assert.False(queue.TryTake(out _));
    }

    [Fact(Timeout = 30_000)]
    public async Task TryTake_TimedOut_ReturnsFalseAfterTheTimeout()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(1);
        var timeout = TimeSpan.FromMilliseconds(100);
        var clock = Stopwatch.StartNew();

        Assert.False(queue.TryTake(out _, timeout));

        Concurrency.AssertDuration(clock.Elapsed, timeout);
        queue.Put(1);
        Assert.Equal(1, queue.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task PutAsyncAndTakeAsync_Uncontended_CompleteSynchronously()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(2);

        Concurrency.Completed(queue.PutAsync(1));
        Concurrency.Completed(queue.PutAsync(2));

        Assert.Equal(1, Concurrency.CompletedResult(queue.TakeAsync()));
        Assert.Equal(2, Concurrency.CompletedResult(queue.TakeAsync()));
    }

    // BaseSimpleQueueTest.test_order
    [Fact(Timeout = 30_000)]
    public async Task PutAndTake_OneProducerOneConsumerThroughASmallQueue_KeepOrder()
    {
        var queue = new BoundedQueue<int>(3);
        const int count = 10_000;
        var producer = Concurrency.Run(() =>
        {
            for (var i = 0; i < count; i++)
            {
                queue.Put(i);
            }
        });

        for (var expected = 0; expected < count; expected++)
        {
            Assert.Equal(expected, await queue.TakeAsync().AsTask().WaitAsync(Concurrency.HangTimeout));
        }

        await producer.WaitAsync(Concurrency.HangTimeout);
    }

    // BaseSimpleQueueTest.test_references
    [Fact(Timeout = 30_000)]
    public async Task Take_ItemTaken_QueueNoLongerReferencesIt()
    {
        await Task.Yield();
        var queue = new BoundedQueue<object>(4);

        var taken = PutAndTakeOne(queue);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(taken.IsAlive);
    }

    [Fact(Timeout = 30_000)]
    public async Task TakeAsync_ItemsTakenAroundTheRing_QueueNoLongerReferencesThem()
    {
        var queue = new BoundedQueue<object>(3);
        var references = new List<WeakReference>();
        for (var round = 0; round < 5; round++)
        {
            references.Add(await PutAndTakeOneAsync(queue));
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.All(references, reference => Assert.False(reference.IsAlive));
    }

    // test_shutdown_empty
    [Fact(Timeout = 30_000)]
    public async Task Shutdown_EmptyQueue_PutsAndTakesThrow()
    {
        var queue = new BoundedQueue<int>(2);

        queue.Shutdown();

        Assert.True(queue.IsShutdown);
        Assert.Throws<QueueShutDownException>(() => queue.Put(1));
        Assert.Throws<QueueShutDownException>(() => queue.TryPut(1));
        Assert.Throws<QueueShutDownException>(() => queue.TryPut(1, TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<QueueShutDownException>(async () => await queue.PutAsync(1));
        Assert.Throws<QueueShutDownException>(() => queue.Take());
        Assert.Throws<QueueShutDownException>(() => queue.TryTake(out _));
        Assert.Throws<QueueShutDownException>(() => queue.TryTake(out _, TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<QueueShutDownException>(async () => await queue.TakeAsync());
    }
}
