using BenchmarkDotNet.Attributes;
using Pipeline.Primitives;

namespace Pipeline.Benchmarks.Primitives;

/// <summary>
/// One caller awaits a free lock or semaphore and releases it: the path must complete
/// synchronously and allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class UncontendedAsyncLockBenchmarks
{
    private readonly SemaphoreSlim _semaphoreSlim = new(1, 1);
    private readonly ExclusiveLock _exclusiveLock = new();
    private readonly CountingSemaphore _countingSemaphore = new(1);
    private int _counter;

    [Benchmark(Baseline = true, Description = "SemaphoreSlim WaitAsync+Release")]
    public async Task SemaphoreSlimWaitAsyncRelease()
    {
        await _semaphoreSlim.WaitAsync();
        _counter++;
        _semaphoreSlim.Release();
    }

    [Benchmark(Description = "ExclusiveLock AcquireAsync+Release")]
    public async Task ExclusiveLockAcquireAsyncRelease()
    {
        await _exclusiveLock.AcquireAsync();
        _counter++;
        _exclusiveLock.Release();
    }

    [Benchmark(Description = "ExclusiveLock using LockAsync()")]
    public async Task ExclusiveLockScopeAsync()
    {
        using (await _exclusiveLock.LockAsync())
        {
            _counter++;
        }
    }

    [Benchmark(Description = "CountingSemaphore AcquireAsync+Release")]
    public async Task CountingSemaphoreAcquireAsyncRelease()
    {
        await _countingSemaphore.AcquireAsync();
        _counter++;
        _countingSemaphore.Release();
    }
}
