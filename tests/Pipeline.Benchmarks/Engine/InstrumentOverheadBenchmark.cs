using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// What the <c>Pipeline</c> meter costs per item on the engine benchmark's chain (200,000 ints → x + 1 → x * 2 → sum, Condition
/// handoffs of 1024): built without a meter factory, so no instrument exists (baseline); with the instruments and no listener
/// (target within 5 %); with a <see cref="MeterListener"/> listening to every instrument of the meter (target within 15 %), which
/// makes the <c>pipeline.stage.duration</c> histogram record each call of stage code.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class InstrumentOverheadBenchmark
{
    private const int Items = 200_000;

    /// <summary>Iterations of arithmetic each stage does per item: 0 is the engine benchmark's trivial stage; 400 is about 0.35 µs and 2,000 about 1.7 µs here.</summary>
    [Params(0, 400, 2000)]
    public int WorkPerCall { get; set; }

    private ServiceProvider _services = null!;
    private MeterListener? _listener;
    [ThreadStatic]
    private static double t_recorded;
    private static double s_recorded;

    [GlobalSetup]
    public void Setup() => _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    [GlobalSetup(Target = nameof(AllInstrumentsListened))]
    public void SetupListener()
    {
        Setup();
        StartListener();
    }

    /// <summary>Runs the chain once with a listener on every instrument, started before the run and stopped after it.</summary>
    internal async Task<long> ListenedOnceAsync()
    {
        Volatile.Write(ref s_recorded, 0);
        StartListener();
        try
        {
            return await AllInstrumentsListened().ConfigureAwait(false);
        }
        finally
        {
            _listener!.Dispose();
            _listener = null;
        }
    }

    private void StartListener()
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Pipeline")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        // Each thread sums into its own field: a callback that wrote one shared field from every worker would measure the cache line
        // bouncing between cores, not the instruments.
        _listener.SetMeasurementEventCallback<double>(static (_, value, _, _) => Record(value));
        _listener.SetMeasurementEventCallback<long>(static (_, value, _, _) => Record(value));
        _listener.SetMeasurementEventCallback<int>(static (_, value, _, _) => Record(value));
        _listener.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public Task<long> NoInstruments() => RunAsync(services: null);

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> InstrumentsNoListener() => RunAsync(_services);

    [Benchmark(OperationsPerInvoke = Items)]
    public async Task<long> AllInstrumentsListened()
    {
        var sum = await RunAsync(_services).ConfigureAwait(false);
        _listener!.RecordObservableInstruments();
        return Volatile.Read(ref s_recorded) > 0 ? sum : throw new InvalidOperationException("The listener recorded nothing.");
    }

    private static void Record(double value)
    {
        t_recorded += value;
        if (s_recorded == 0)
        {
            // Marks that this run's listener received a measurement.
            Volatile.Write(ref s_recorded, 1);
        }
    }

    private async Task<long> RunAsync(IServiceProvider? services)
    {
        var sum = 0L;
        var builder = new PipelineBuilder("overhead") { Handoff = { Kind = HandoffKind.Condition, Capacity = 1024 } };
        var result = await builder
            .From("read", Enumerable.Range(0, Items))
            .Then("increment", x => x + 1 + Work(x, WorkPerCall))
            .Then("double", x => (x * 2) + Work(x, WorkPerCall))
            .To("sum", x => sum += x + Work(x, WorkPerCall))
            .Build(services)
            .RunAsync()
            .ConfigureAwait(false);
        return result.Status == PipelineStatus.Completed && sum == (long)Items * (Items + 1)
            ? sum
            : throw new InvalidOperationException($"{result.Status}, sum {sum}");
    }

    /// <summary>Stage work the JIT cannot remove: <paramref name="iterations"/> multiply-adds, returning 0 for every item.</summary>
    private static int Work(int item, int iterations)
    {
        var hash = item;
        for (var index = 0; index < iterations; index++)
        {
            hash = (hash * 31) + index;
        }

        return hash == 42 && item < 0 ? 1 : 0;
    }
}
