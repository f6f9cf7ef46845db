using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Pipeline.Handoffs;

namespace Pipeline.Benchmarks.Handoffs;

/// <summary>
/// Blocking throughput on dedicated threads, one producer and one consumer: the custom handoffs' <c>Write</c>/<c>Read</c>
/// against <see cref="BlockingCollection{T}"/> (bounded) as baseline. Each invoke moves <see cref="Items"/> items.
/// </summary>
[MemoryDiagnoser]
public class HandoffKindsBlockingBenchmarks
{
    private const int Items = 100_000;
    private const int Capacity = 1024;

    private BlockingCollection<int> _blockingCollection = null!;
    private IBlockingHandoff<int> _condition = null!;
    private IBlockingHandoff<int> _semaphore = null!;

    [GlobalSetup]
    public void Setup()
    {
        _blockingCollection = new BlockingCollection<int>(new ConcurrentQueue<int>(), Capacity);
        _condition = (IBlockingHandoff<int>)Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Condition, Capacity = Capacity });
        _semaphore = (IBlockingHandoff<int>)Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = Capacity });
    }

    [GlobalCleanup]
    public void Cleanup() => _blockingCollection.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public void Spsc_BlockingCollection()
    {
        BlockingCollection<int> collection = _blockingCollection;
        RunOnThreads(
            () =>
            {
                for (int i = 0; i < Items; i++)
                {
                    collection.Add(i);
                }
            },
            () =>
            {
                for (int i = 0; i < Items; i++)
                {
                    collection.Take();
                }
            });
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public void Spsc_Condition() => Spsc(_condition);

    [Benchmark(OperationsPerInvoke = Items)]
    public void Spsc_Semaphore() => Spsc(_semaphore);

    private static void Spsc(IBlockingHandoff<int> handoff) =>
        RunOnThreads(
            () =>
            {
                for (int i = 0; i < Items; i++)
                {
                    handoff.Write(i);
                }
            },
            () =>
            {
                for (int i = 0; i < Items; i++)
                {
                    handoff.Read();
                }
            });

    private static void RunOnThreads(Action producer, Action consumer)
    {
        var producerThread = new Thread(() => producer());
        var consumerThread = new Thread(() => consumer());
        producerThread.Start();
        consumerThread.Start();
        producerThread.Join();
        consumerThread.Join();
    }
}
