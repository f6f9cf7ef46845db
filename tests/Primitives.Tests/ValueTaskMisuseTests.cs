using static Pipeline.Primitives.Tests.Concurrency;

namespace Pipeline.Primitives.Tests;

/// <summary>
/// A pooled wait's <see cref="ValueTask"/> used against its contract (awaited twice, or its result read before it completed)
/// throws, and leaves the primitive working for every later caller.
/// </summary>
public class ValueTaskMisuseTests
{
    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_AwaitedTwice_ThrowsAndTheSemaphoreGoesOnServingWaiters()
    {
        var semaphore = new CountingSemaphore(0);
        var first = semaphore.AcquireAsync();
        semaphore.Release();
        await first;

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await first);

        // Before, the second await returned the node to the pool again: two later waits shared it and Release threw.
        var a = semaphore.AcquireAsync().AsTask();
        var b = semaphore.AcquireAsync().AsTask();
        Assert.Equal(2, semaphore.WaitingCount);
        semaphore.Release();
        await a.WaitAsync(HangTimeout);
        Assert.False(b.IsCompleted);
        semaphore.Release();
        await b.WaitAsync(HangTimeout);
        Assert.Equal(0, semaphore.WaitingCount);
        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_ResultReadBeforeItCompleted_ThrowsAndTheWaitGoesOn()
    {
        var semaphore = new CountingSemaphore(0);
        var pending = semaphore.AcquireAsync();

        Assert.Throws<InvalidOperationException>(() => pending.GetAwaiter().GetResult());

        // The wait is still queued, and takes the next permit; a later waiter is served after it.
        Assert.Equal(1, semaphore.WaitingCount);
        var later = semaphore.AcquireAsync().AsTask();
        semaphore.Release();
        await pending.AsTask().WaitAsync(HangTimeout);
        Assert.False(later.IsCompleted);
        semaphore.Release();
        await later.WaitAsync(HangTimeout);
        Assert.Equal(0, semaphore.WaitingCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task ConditionWaitAsync_AwaitedTwice_ThrowsAndTheConditionGoesOnNotifying()
    {
        var exclusiveLock = new ExclusiveLock();
        var condition = new Condition(exclusiveLock);
        await exclusiveLock.AcquireAsync();
        var wait = condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan);
        exclusiveLock.Acquire();
        condition.Notify();
        exclusiveLock.Release();
        Assert.True(await wait);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await wait);

        exclusiveLock.Acquire();
        var next = condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan).AsTask();
        exclusiveLock.Acquire();
        Assert.Equal(1, condition.WaitingCount);
        condition.Notify();
        exclusiveLock.Release();
        Assert.True(await next.WaitAsync(HangTimeout));
    }
}
