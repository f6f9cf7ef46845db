using BenchmarkDotNet.Attributes;
using Pipeline.Primitives;

namespace Pipeline.Benchmarks.Primitives;

/// <summary>
/// One thread takes and releases a free lock: the cost every caller pays even without contention.
/// </summary>
[MemoryDiagnoser]
public class UncontendedLockBenchmarks
{
    private readonly SemaphoreSlim _semaphoreSlim = new(1, 1);
    private readonly ExclusiveLock _exclusiveLock = new();
    private readonly ReentrantLock _reentrantLock = new();
    private readonly CountingSemaphore _countingSemaphore = new(1);
    private readonly object _monitor = new();
    private readonly Lock _systemLock = new();
    private int _counter;

    [Benchmark(Baseline = true, Description = "SemaphoreSlim Wait+Release")]
    public void SemaphoreSlimWaitRelease()
    {
        _semaphoreSlim.Wait();
        _counter++;
        _semaphoreSlim.Release();
    }

    [Benchmark(Description = "ExclusiveLock Acquire+Release")]
    public void ExclusiveLockAcquireRelease()
    {
        _exclusiveLock.Acquire();
        _counter++;
        _exclusiveLock.Release();
    }

    [Benchmark(Description = "ExclusiveLock using Lock()")]
    public void ExclusiveLockScope()
    {
        using (_exclusiveLock.Lock())
        {
            _counter++;
        }
    }

    [Benchmark(Description = "ReentrantLock Acquire+Release")]
    public void ReentrantLockAcquireRelease()
    {
        _reentrantLock.Acquire();
        _counter++;
        _reentrantLock.Release();
    }

    [Benchmark(Description = "CountingSemaphore Acquire+Release")]
    public void CountingSemaphoreAcquireRelease()
    {
        _countingSemaphore.Acquire();
        _counter++;
        _countingSemaphore.Release();
    }

    [Benchmark(Description = "lock (object)")]
    public void MonitorLock()
    {
        lock (_monitor)
        {
            _counter++;
        }
    }

    [Benchmark(Description = "lock (System.Threading.Lock)")]
    public void SystemThreadingLock()
    {
        lock (_systemLock)
        {
            _counter++;
        }
    }
}
