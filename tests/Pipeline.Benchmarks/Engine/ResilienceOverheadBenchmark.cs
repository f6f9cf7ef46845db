using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;
using Polly;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// What resilience that never acts costs per item on the engine benchmark's chain (200,000 ints → x + 1 → x * 2 → sum, Condition
/// handoffs of 1024): no resilience (baseline); every stage naming a registered Polly pipeline with no strategy
/// (<c>Resilience:Pipeline</c>), which the engine does not run, so this case runs the baseline's code and shows the noise; every stage
/// through a retry that never fires, without and with Polly's telemetry (services with a logger factory, as under a host); every stage
/// through a circuit breaker that never opens (it pauses by default). The chain's own
/// time swings from run to run: <see cref="StageOverheadHarness"/> times the same cases in alternation.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class ResilienceOverheadBenchmark
{
    /// <summary>Items per run.</summary>
    internal const int Items = 200_000;

    /// <summary>Iterations of arithmetic each stage does per item: 0 is the engine benchmark's trivial stage; 400 is about 0.35 µs and 2,000 about 1.7 µs here.</summary>
    [Params(0, 400, 2000)]
    public int WorkPerCall { get; set; }

    private ServiceProvider _services = null!;
    private ServiceProvider _withLogging = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddResiliencePipeline("noop", _ => { }).BuildServiceProvider();

        // Services with a logger factory, as any host has: the engine then turns Polly's telemetry on for a stage's pipeline.
        _withLogging = new ServiceCollection().AddLogging().BuildServiceProvider();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        _withLogging.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public Task<long> NoResilience() => RunAsync(resilience: null);

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> NoOpPipeline() => RunAsync(new ResilienceSettings { Pipeline = "noop" });

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> RetryNeverFiring() => RunAsync(new ResilienceSettings { Retry = new RetrySettings { MaxRetryAttempts = 1 } });

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> RetryNeverFiringWithTelemetry() =>
        RunAsync(new ResilienceSettings { Retry = new RetrySettings { MaxRetryAttempts = 1 } }, _withLogging);

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> CircuitBreakerNeverOpening() => RunAsync(new ResilienceSettings { CircuitBreaker = new CircuitBreakerSettings() });

    private async Task<long> RunAsync(ResilienceSettings? resilience, IServiceProvider? services = null)
    {
        var sum = 0L;
        var builder = new PipelineBuilder("overhead") { Handoff = { Kind = HandoffKind.Condition, Capacity = 1024 } };
        var result = await builder
            .From("read", Enumerable.Range(0, Items))
            .Then("increment", x => x + 1 + Work(x, WorkPerCall), o => o.Resilience = resilience)
            .Then("double", x => (x * 2) + Work(x, WorkPerCall), o => o.Resilience = resilience)
            .To("sum", x => sum += x + Work(x, WorkPerCall), o => o.Resilience = resilience)
            .Build(services ?? _services)
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
