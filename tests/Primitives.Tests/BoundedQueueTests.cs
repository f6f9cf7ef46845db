using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public class BoundedQueueTests
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

    // test_shutdown_nonempty
    [Fact(Timeout = 30_000)]
    public async Task Shutdown_NonEmptyQueue_TakersDrainThenThrow()
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("data");

        queue.Shutdown();

        Assert.Equal("data", queue.Take());
        Assert.Throws<QueueShutDownException>(() => queue.Take());
    }

    // test_shutdown_immediate
    [Fact(Timeout = 30_000)]
    public async Task ShutdownNow_NonEmptyQueue_ReturnsTheItemsAndTakersThrow()
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("data");

        var undelivered = queue.ShutdownNow();

        Assert.Equal(["data"], undelivered);
        Assert.Equal(0, queue.Count);
        Assert.Throws<QueueShutDownException>(() => queue.Take());
    }

    // test_shutdown_allowed_transitions
    [Fact(Timeout = 30_000)]
    public async Task Shutdown_RepeatedInAnyMode_IsAllowed()
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(2);
        Assert.False(queue.IsShutdown);

        queue.Shutdown();
        Assert.True(queue.IsShutdown);
        Assert.Empty(queue.ShutdownNow());
        queue.Shutdown();

        Assert.True(queue.IsShutdown);
    }

    // test_shutdown_all_methods_in_one_thread
    [Fact(Timeout = 30_000)]
    public async Task Shutdown_EveryMemberInOneThread_BehavesAsDocumented()
    {
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        queue.Put("Z");

        queue.Shutdown();

        Assert.Throws<QueueShutDownException>(() => queue.Put("x"));
        Assert.Throws<QueueShutDownException>(() => queue.TryPut("x"));
        Assert.Equal(2, queue.Count);
        Assert.Equal("Y", queue.Take());
        Assert.True(queue.TryTake(out var second));
        Assert.Equal("Z", second);
        queue.TaskDone();
        queue.TaskDone();
        queue.Join();
        Assert.Throws<QueueShutDownException>(() => queue.Take());
        Assert.Throws<QueueShutDownException>(() => queue.TryTake(out _));
        Assert.Throws<QueueShutDownException>(() => queue.TryTake(out _, TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<QueueShutDownException>(async () => await queue.TakeAsync());
    }

    // test_shutdown_immediate_all_methods_in_one_thread
    [Fact(Timeout = 30_000)]
    public async Task ShutdownNow_EveryMemberInOneThread_BehavesAsDocumented()
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        queue.Put("Z");

        Assert.Equal(["Y", "Z"], queue.ShutdownNow());

        Assert.Throws<QueueShutDownException>(() => queue.Put("x"));
        Assert.Throws<QueueShutDownException>(() => queue.Take());
        Assert.Throws<QueueShutDownException>(() => queue.TryTake(out _));
        Assert.Throws<InvalidOperationException>(queue.TaskDone);
        Concurrency.AssertCompletes(Concurrency.Run(() => queue.Join()));
    }

    // test_shutdown_get
    [Fact(Timeout = 30_000)]
    public async Task Shutdown_FullQueueWithThreeTakers_TwoGetItemsAndOneIsRefused()
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        queue.Put("Z");
        queue.Shutdown();

        var outcomes = Enumerable.Range(0, 3).Select(_ => Concurrency.Run(() =>
        {
            try
            {
                return queue.Take();
            }
            catch (QueueShutDownException)
            {
                return "shut down";
            }
        })).ToArray();

        Assert.Equal(["Y", "Z", "shut down"], Concurrency.AssertCompletes(Task.WhenAll(outcomes)).Order(StringComparer.Ordinal));
    }

    // test_shutdown_immediate_get
    [Fact(Timeout = 30_000)]
    public async Task ShutdownNow_FullQueue_TakersAreRefused()
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        queue.Put("Z");

        Assert.Equal(["Y", "Z"], queue.ShutdownNow());

        var outcomes = Enumerable.Range(0, 2)
            .Select(_ => Concurrency.Run(() => Assert.Throws<QueueShutDownException>(() => queue.Take())))
            .ToArray();
        Concurrency.AssertCompletes(Task.WhenAll(outcomes));
    }

    // test_shutdown_put / test_shutdown_immediate_put
    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Shutdown_PuttersBlockedOnAFullQueue_AreRefused(bool immediate)
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        queue.Put("Z");
        var putters = Enumerable.Range(0, 2).Select(index => Waiter.Start(waiter =>
        {
            waiter.Enter();
            queue.Put($"late {index}");
        })).ToList();
        putters.ForEach(putter => putter.WaitEntering());
        putters.ForEach(putter => putter.AssertStaysBlocked());

        var undelivered = immediate ? queue.ShutdownNow() : [];

        if (!immediate)
        {
            queue.Shutdown();
        }

        putters.ForEach(putter => putter.AssertFails<QueueShutDownException>());
        if (immediate)
        {
            Assert.Equal(["Y", "Z"], undelivered);
            Assert.Equal(0, queue.Count);
        }
        else
        {
            Assert.Equal("Y", queue.Take());
            Assert.Equal("Z", queue.Take());
            Assert.Throws<QueueShutDownException>(() => queue.Take());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Shutdown_AsyncPutterBlockedOnAFullQueue_IsRefused()
    {
        var queue = new BoundedQueue<int>(1);
        queue.Put(1);
        var putter = queue.PutAsync(2).AsTask();
        Assert.False(putter.IsCompleted);

        queue.Shutdown();

        await Assert.ThrowsAsync<QueueShutDownException>(() => putter.WaitAsync(Concurrency.HangTimeout));
        Assert.Equal(1, queue.Take());
        Assert.Throws<QueueShutDownException>(() => queue.TryTake(out _));
    }

    // test_shutdown_join
    [Fact(Timeout = 30_000)]
    public async Task Shutdown_JoinersWaitUntilTheRemainingItemIsDone()
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        var joiners = Enumerable.Range(0, 2).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            queue.Join();
        })).ToList();
        joiners.ForEach(joiner => joiner.WaitEntering());

        queue.Shutdown();
        joiners.ForEach(joiner => joiner.AssertStaysBlocked());
        Assert.Equal("Y", queue.Take());
        queue.TaskDone();

        joiners.ForEach(joiner => joiner.AssertCompleted());
    }

    // test_shutdown_immediate_join
    [Fact(Timeout = 30_000)]
    public async Task ShutdownNow_JoinersBlockedOnQueuedItems_AreReleased()
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        var joiners = Enumerable.Range(0, 2).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            queue.Join();
        })).ToList();
        joiners.ForEach(joiner => joiner.WaitEntering());
        joiners.ForEach(joiner => joiner.AssertStaysBlocked());

        Assert.Equal(["Y"], queue.ShutdownNow());

        joiners.ForEach(joiner => joiner.AssertCompleted());
    }

    // test_shutdown_put_join / test_shutdown_immediate_put_join
    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Shutdown_PutterRefusedWhileAJoinerWaits_JoinerReturnsOnceTheItemIsAccountedFor(bool immediate)
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        var joiner = Waiter.Start(waiter =>
        {
            waiter.Enter();
            queue.Join();
        });
        joiner.WaitEntering();

        if (immediate)
        {
            Assert.Equal(["Y"], queue.ShutdownNow());
            Assert.Throws<QueueShutDownException>(() => queue.Put("E"));
            Assert.Throws<QueueShutDownException>(() => queue.TryTake(out _));
        }
        else
        {
            queue.Shutdown();
            Assert.Throws<QueueShutDownException>(() => queue.Put("E"));
            joiner.AssertStaysBlocked();
            Assert.Equal("Y", queue.Take());
            queue.TaskDone();
        }

        joiner.AssertCompleted();
    }

    // test_shutdown_get_task_done_join
    [Fact(Timeout = 30_000)]
    public async Task Shutdown_TakersMarkDoneWhileJoinersWait_AllSucceed()
    {
        await Task.Yield();
        var queue = new BoundedQueue<string>(2);
        queue.Put("Y");
        queue.Put("Z");
        var joiners = Enumerable.Range(0, 2).Select(_ => Waiter.Start(waiter =>
        {
            waiter.Enter();
            queue.Join();
        })).ToList();
        joiners.ForEach(joiner => joiner.WaitEntering());

        queue.Shutdown();
        var takers = Enumerable.Range(0, 2).Select(_ => Concurrency.Run(() =>
        {
            var item = queue.Take();
            queue.TaskDone();
            return item;
        })).ToArray();

        Assert.Equal(["Y", "Z"], Concurrency.AssertCompletes(Task.WhenAll(takers)).Order(StringComparer.Ordinal));
        joiners.ForEach(joiner => joiner.AssertCompleted());
    }

    // test_shutdown_pending_get
    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Shutdown_TakerBlockedOnAnEmptyQueue_IsRefused(bool immediate)
    {
        await Task.Yield();
        var queue = new BoundedQueue<int>(2);
        var taker = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.Take();
        });
        var timedTaker = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return queue.TryTake(out _, TimeSpan.FromSeconds(30));
        });
        taker.WaitEntering();
        timedTaker.WaitEntering();
        taker.AssertStaysBlocked();

        if (immediate)
        {
            Assert.Empty(queue.ShutdownNow());
        }
        else
        {
            queue.Shutdown();
        }

        taker.AssertFails<QueueShutDownException>();
        timedTaker.AssertFails<QueueShutDownException>();
    }

    [Fact(Timeout = 30_000)]
    public async Task Shutdown_AsyncTakerBlockedOnAnEmptyQueue_IsRefused()
    {
        var queue = new BoundedQueue<int>(2);
        var taker = queue.TakeAsync().AsTask();
        Assert.False(taker.IsCompleted);

        queue.Shutdown();

        await Assert.ThrowsAsync<QueueShutDownException>(() => taker.WaitAsync(Concurrency.HangTimeout));
    }

    [Fact(Timeout = 30_000)]
    public async Task ShutdownNow_WithItemsTakenButNotDone_ReturnsTheRestInOrderAndJoinWaitsForTheTakenOnes()
    {
        var queue = new BoundedQueue<string>(3);
        queue.Put("a");
        queue.Put("b");
        queue.Put("c");
        Assert.Equal("a", queue.Take());

        var undelivered = queue.ShutdownNow();

        Assert.Equal(["b", "c"], undelivered);
        var joined = queue.JoinAsync().AsTask();
        Assert.False(joined.IsCompleted);
        queue.TaskDone();
        await joined.WaitAsync(Concurrency.HangTimeout);
        Assert.Throws<InvalidOperationException>(queue.TaskDone);
    }

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
