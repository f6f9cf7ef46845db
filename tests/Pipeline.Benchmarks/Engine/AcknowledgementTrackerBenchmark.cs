using BenchmarkDotNet.Attributes;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// What acknowledgement tracking adds per item: register the item when the source yields it, release it when it is accounted for.
/// Compare with the engine benchmark's cost per item (<see cref="ThreeStagePipelineBenchmark"/>); the budget is 10 % of it.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class AcknowledgementTrackerBenchmark
{
    private const int Items = 1_000_000;

    /// <summary>Register and release on one thread, in order: the bare cost of the bookkeeping.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public long SameThread()
    {
        using var tracker = NewTracker();
        for (long position = 1; position <= Items; position++)
        {
            tracker.TryRegister(position, out var ticket);
            tracker.Release(ticket);
        }

        return tracker.Watermark;
    }

    /// <summary>Register one at a time, release in batches of 64 (as a sink releases what it took in one burst).</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public long SameThreadBatchesOf64()
    {
        using var tracker = NewTracker();
        Span<long> batch = stackalloc long[64];
        for (long position = 1; position <= Items;)
        {
            for (var i = 0; i < batch.Length; i++, position++)
            {
                tracker.TryRegister(position, out batch[i]);
            }

            tracker.Release(batch);
        }

        return tracker.Watermark;
    }

    private static AcknowledgementTracker NewTracker()
        => new((_, _) => default, capacity: 4096, maxCount: 1024, maxDelay: TimeSpan.FromSeconds(1), TimeProvider.System);
}
