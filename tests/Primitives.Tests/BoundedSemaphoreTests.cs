namespace Pipeline.Primitives.Tests;

public class BoundedSemaphoreTests : SemaphoreTestBase
{
    protected override CountingSemaphore Create(int initialCount) => new BoundedSemaphore(initialCount, Math.Max(initialCount, 0) + 100);

    protected override CountingSemaphore CreateDefault() => new BoundedSemaphore();

    [Fact(Timeout = 30_000)]
    public async Task Constructor_Default_IsOneOfOne()
    {
        await Task.Yield();
        var semaphore = new BoundedSemaphore();

        Assert.Equal(1, semaphore.CurrentCount);
        Assert.Equal(1, semaphore.MaxCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Constructor_InitialCountOnly_UsesItAsMaxCount()
    {
        await Task.Yield();
        var semaphore = new BoundedSemaphore(3);

        Assert.Equal(3, semaphore.CurrentCount);
        Assert.Equal(3, semaphore.MaxCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Constructor_InitialCountAboveMax_ThrowsArgumentExceptionNamingIt()
    {
        await Task.Yield();
        var exception = Assert.ThrowsAny<ArgumentException>(() => new BoundedSemaphore(3, 2));

        Assert.Contains(exception.ParamName, new[] { "initialCount", "maxCount" });
    }

    [Fact(Timeout = 30_000)]
    public async Task Constructor_NegativeInitialCountOnly_ThrowsArgumentOutOfRange()
    {
        await Task.Yield();
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedSemaphore(-1));

        Assert.Equal("initialCount", exception.ParamName);
    }

    // BoundedSemaphoreTests.test_release_unacquired
    [Fact(Timeout = 30_000)]
    public async Task Release_Unacquired_ThrowsSemaphoreFull()
    {
        await Task.Yield();
        var semaphore = new BoundedSemaphore();

        Assert.Throws<SemaphoreFullException>(() => semaphore.Release());

        semaphore.Acquire();
        semaphore.Release();
        Assert.Throws<SemaphoreFullException>(() => semaphore.Release());
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Release_PastMaxCount_ThrowsSemaphoreFullLeavingTheCount()
    {
        await Task.Yield();
        var semaphore = new BoundedSemaphore(0, 2);

        Assert.Throws<SemaphoreFullException>(() => semaphore.Release(3));
        Assert.Equal(0, semaphore.CurrentCount);

        semaphore.Release(2);
        Assert.Equal(2, semaphore.CurrentCount);
        Assert.Throws<SemaphoreFullException>(() => semaphore.Release());
        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Release_PastMaxCountThroughACountingSemaphoreVariable_StillThrows()
    {
        await Task.Yield();
        CountingSemaphore semaphore = new BoundedSemaphore(2);
        semaphore.Acquire();

        Assert.Throws<SemaphoreFullException>(() => semaphore.Release(2));
        Assert.Equal(1, semaphore.CurrentCount);

        semaphore.Release();
        Assert.Throws<SemaphoreFullException>(() => semaphore.Release());
        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Release_HandedToAWaiter_CountsAgainstTheBoundOnlyOnce()
    {
        var semaphore = new BoundedSemaphore(0, 1);
        var waiter = semaphore.AcquireAsync().AsTask();

        semaphore.Release();
        await waiter.WaitAsync(Concurrency.HangTimeout);
        Assert.Equal(0, semaphore.CurrentCount);

        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.Throws<SemaphoreFullException>(() => semaphore.Release());
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Release_PastMaxCountWithWaiters_ThrowsAndWakesNobody()
    {
        var semaphore = new BoundedSemaphore(0, 1);
        var first = semaphore.AcquireAsync().AsTask();
        var second = semaphore.AcquireAsync().AsTask();

        Assert.Throws<SemaphoreFullException>(() => semaphore.Release(2));

        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        Assert.Equal(0, semaphore.CurrentCount);
        semaphore.Release();
        await first.WaitAsync(Concurrency.HangTimeout);
        Assert.False(second.IsCompleted);
    }
}
