namespace Pipeline.Primitives.Tests;

public class CountingSemaphoreTests : SemaphoreTestBase
{
    protected override CountingSemaphore Create(int initialCount) => new(initialCount);

    protected override CountingSemaphore CreateDefault() => new();

    // SemaphoreTests.test_release_unacquired
    [Fact(Timeout = 30_000)]
    public async Task Release_WithoutAcquire_RaisesTheCount()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(1);

        semaphore.Release();

        Assert.Equal(2, semaphore.CurrentCount);
        Assert.True(semaphore.TryAcquire());
        Assert.True(semaphore.TryAcquire());
        Assert.False(semaphore.TryAcquire());
    }

    [Fact(Timeout = 30_000)]
    public async Task Release_Count_AddsThatManyPermits()
    {
        await Task.Yield();
        var semaphore = new CountingSemaphore(0);

        semaphore.Release(5);

        Assert.Equal(5, semaphore.CurrentCount);
    }
}
