using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Pipeline.Primitives;

namespace Pipeline.Benchmarks.Primitives;

/// <summary>
/// Moves <see cref="Items"/> ints through a queue bounded to <see cref="Capacity"/>, with one
/// producer and one consumer, then two of each, on dedicated threads. Reported per item.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class QueueThroughputBenchmarks
{
    private const int Capacity = 1024;
    private const int Items = 100_000;

    private WorkerGroup? _oneToOne;
    private WorkerGroup? _twoToTwo;

    [GlobalSetup]
    public void Setup()
    {
        _oneToOne = new WorkerGroup(2);
        _twoToTwo = new WorkerGroup(4);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _oneToOne?.Dispose();
        _twoToTwo?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items, Description = "BlockingCollection, 1P/1C")]
    [BenchmarkCategory("1P1C")]
    public long BlockingCollectionOneToOne() => RunBlockingCollection(_oneToOne!, producers: 1);

    [Benchmark(OperationsPerInvoke = Items, Description = "BoundedQueue, 1P/1C")]
    [BenchmarkCategory("1P1C")]
    public long BoundedQueueOneToOne() => RunBoundedQueue(_oneToOne!, producers: 1);

    [Benchmark(Baseline = true, OperationsPerInvoke = Items, Description = "BlockingCollection, 2P/2C")]
    [BenchmarkCategory("2P2C")]
    public long BlockingCollectionTwoToTwo() => RunBlockingCollection(_twoToTwo!, producers: 2);

    [Benchmark(OperationsPerInvoke = Items, Description = "BoundedQueue, 2P/2C")]
    [BenchmarkCategory("2P2C")]
    public long BoundedQueueTwoToTwo() => RunBoundedQueue(_twoToTwo!, producers: 2);

    private static long RunBlockingCollection(WorkerGroup workers, int producers)
    {
        using var queue = new BlockingCollection<int>(new ConcurrentQueue<int>(), Capacity);
        long sum = 0;
        var perWorker = Items / producers;
        workers.Run(worker =>
        {
            if (worker < producers)
            {
                for (var i = 0; i < perWorker; i++)
                {
                    queue.Add(i);
                }
            }
            else
            {
                long local = 0;
                for (var i = 0; i < perWorker; i++)
                {
                    local += queue.Take();
                }

                Interlocked.Add(ref sum, local);
            }
        });
        return sum;
    }

    private static long RunBoundedQueue(WorkerGroup workers, int producers)
    {
        var queue = new BoundedQueue<int>(Capacity);
        long sum = 0;
        var perWorker = Items / producers;
        workers.Run(worker =>
        {
            if (worker < producers)
            {
                for (var i = 0; i < perWorker; i++)
                {
                    queue.Put(i);
                }
            }
            else
            {
                long local = 0;
                for (var i = 0; i < perWorker; i++)
                {
                    local += queue.Take();
                }

                Interlocked.Add(ref sum, local);
            }
        });
        return sum;
    }
}
