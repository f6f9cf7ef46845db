using BenchmarkDotNet.Attributes;
using Pipeline.Primitives;

namespace Pipeline.Benchmarks.Primitives;

/// <summary>
/// Two threads hammer one lock: each does <see cref="IterationsPerThread"/> acquire, increment,
/// release. Reported per acquire/release pair, so the cost of handing the lock over is visible.
/// </summary>
[MemoryDiagnoser]
public class ContendedLockBenchmarks
{
    private const int Threads = 2;
    private const int IterationsPerThread = 50_000;
    private const int Operations = Threads * IterationsPerThread;

    private readonly SemaphoreSlim _semaphoreSlim = new(1, 1);
    private readonly ExclusiveLock _exclusiveLock = new();
    private readonly object _monitor = new();
    private readonly Lock _systemLock = new();
    private WorkerGroup? _workers;
    private Action<int>? _semaphoreSlimWork;
    private Action<int>? _exclusiveLockWork;
    private Action<int>? _monitorWork;
    private Action<int>? _systemLockWork;
    private int _counter;

    [GlobalSetup]
    public void Setup()
    {
        _workers = new WorkerGroup(Threads);
        _semaphoreSlimWork = _ =>
        {
            for (var i = 0; i < IterationsPerThread; i++)
            {
                _semaphoreSlim.Wait();
                _counter++;
                _semaphoreSlim.Release();
            }
        };
        _exclusiveLockWork = _ =>
        {
            for (var i = 0; i < IterationsPerThread; i++)
            {
                _exclusiveLock.Acquire();
                _counter++;
                _exclusiveLock.Release();
            }
        };
        _monitorWork = _ =>
        {
            for (var i = 0; i < IterationsPerThread; i++)
            {
                lock (_monitor)
                {
                    _counter++;
                }
            }
        };
        _systemLockWork = _ =>
        {
            for (var i = 0; i < IterationsPerThread; i++)
            {
                lock (_systemLock)
                {
                    _counter++;
                }
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _workers?.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations, Description = "SemaphoreSlim, 2 threads")]
    public void SemaphoreSlimContended() => _workers!.Run(_semaphoreSlimWork!);

    [Benchmark(OperationsPerInvoke = Operations, Description = "ExclusiveLock, 2 threads")]
    public void ExclusiveLockContended() => _workers!.Run(_exclusiveLockWork!);

    [Benchmark(OperationsPerInvoke = Operations, Description = "lock (object), 2 threads")]
    public void MonitorContended() => _workers!.Run(_monitorWork!);

    [Benchmark(OperationsPerInvoke = Operations, Description = "lock (System.Threading.Lock), 2 threads")]
    public void SystemThreadingLockContended() => _workers!.Run(_systemLockWork!);
}
