using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class BoundedQueueTests
{
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
}
