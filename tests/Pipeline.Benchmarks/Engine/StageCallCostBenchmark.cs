using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Polly.Telemetry;
using Microsoft.Extensions.Logging;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// The fixed price of what wraps one call of stage code, on one thread, beside a plain call (baseline): the two timestamps and the
/// <c>pipeline.stage.duration</c> record a listened histogram costs, and one execution through a registered Polly pipeline with no
/// strategy, a retry that never fires (without Polly's telemetry, with it as <c>ConfigureTelemetry</c> sets it up, and with it as the engine
/// sets it up under a host) and a circuit breaker that never opens.
/// Per call; no contention.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class StageCallCostBenchmark
{
    private const int Calls = 10_000;

    [ThreadStatic]
    private static double t_recorded;

    private readonly KeyValuePair<string, object?>[] _tags = [new("pipeline.name", "cost"), new("pipeline.stage", "parse"), new("pipeline.outcome", "processed")];
    private ServiceProvider _services = null!;
    private Meter _meter = null!;
    private MeterListener _listener = null!;
    private Histogram<double> _histogram = null!;
    private ResiliencePipeline _registeredEmpty = null!;
    private ResiliencePipeline<int> _retry = null!;
    private ResiliencePipeline<int> _retryWithTelemetry = null!;
    private ResiliencePipeline<int> _retryWithStageTelemetry = null!;
    private ResiliencePipeline<int> _breaker = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddResiliencePipeline("noop", _ => { }).BuildServiceProvider();
        _registeredEmpty = _services.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline("noop");
        _retry = new ResiliencePipelineBuilder<int>().AddRetry(new RetryStrategyOptions<int> { MaxRetryAttempts = 1 }).Build();
        // Polly's telemetry as ConfigureTelemetry sets it up (its logs filtered to warnings), and as the engine sets it up for a stage
        // when the services have a logger factory (any host): the events every call makes are not passed on.
        _retryWithTelemetry = new ResiliencePipelineBuilder<int>()
            .AddRetry(new RetryStrategyOptions<int> { MaxRetryAttempts = 1 })
            .ConfigureTelemetry(new TelemetryOptions { LoggerFactory = new WarningsOnlyLoggerFactory(LoggerFactory.Create(logging => logging.AddConsole())) })
            .Build();
        var quiet = new ResiliencePipelineBuilder<int>()
            .AddRetry(new RetryStrategyOptions<int> { MaxRetryAttempts = 1 })
            .ConfigureTelemetry(new TelemetryOptions { LoggerFactory = new WarningsOnlyLoggerFactory(LoggerFactory.Create(logging => logging.AddConsole())) });
        quiet.TelemetryListener = new PerCallQuietTelemetryListener(quiet.TelemetryListener!);
        _retryWithStageTelemetry = quiet.Build();
        _breaker = new ResiliencePipelineBuilder<int>().AddCircuitBreaker(new CircuitBreakerStrategyOptions<int>()).Build();
        _meter = new Meter("StageCallCost");
        _histogram = _meter.CreateHistogram<double>("pipeline.stage.duration", unit: "s");
        _listener = new MeterListener { InstrumentPublished = (instrument, listener) => listener.EnableMeasurementEvents(instrument) };
        _listener.SetMeasurementEventCallback<double>(static (_, value, _, _) => t_recorded += value);
        _listener.Start();
        _listener.EnableMeasurementEvents(_histogram);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener.Dispose();
        _meter.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public async Task<int> PlainCall()
    {
        var sum = 0;
        for (var i = 0; i < Calls; i++)
        {
            sum += await Stage(i, default).ConfigureAwait(false);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public async Task<int> TimedAndRecorded()
    {
        var sum = 0;
        for (var i = 0; i < Calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            sum += await Stage(i, default).ConfigureAwait(false);
            _histogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _tags);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public async Task<int> TimedOnly()
    {
        var sum = 0;
        var elapsed = 0L;
        for (var i = 0; i < Calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            sum += await Stage(i, default).ConfigureAwait(false);
            elapsed += Stopwatch.GetTimestamp() - started;
        }

        return sum + (int)(elapsed & 1);
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public async Task<int> RecordedOnly()
    {
        var sum = 0;
        for (var i = 0; i < Calls; i++)
        {
            sum += await Stage(i, default).ConfigureAwait(false);
            _histogram.Record(1e-6, _tags);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public Task<int> RegisteredEmptyPipeline() => ThroughAsync(_registeredEmpty);

    [Benchmark(OperationsPerInvoke = Calls)]
    public Task<int> RetryNeverFiring() => ThroughAsync(_retry);

    [Benchmark(OperationsPerInvoke = Calls)]
    public Task<int> RetryNeverFiringWithTelemetry() => ThroughAsync(_retryWithTelemetry);

    [Benchmark(OperationsPerInvoke = Calls)]
    public Task<int> RetryNeverFiringWithStageTelemetry() => ThroughAsync(_retryWithStageTelemetry);

    [Benchmark(OperationsPerInvoke = Calls)]
    public Task<int> CircuitBreakerNeverOpening() => ThroughAsync(_breaker);

    private static ValueTask<int> Stage(int item, CancellationToken token) => new(item & 1);

    private static async Task<int> ThroughAsync(ResiliencePipeline pipeline)
    {
        var sum = 0;
        for (var i = 0; i < Calls; i++)
        {
            sum += await pipeline.ExecuteAsync(static (item, token) => Stage(item, token), i, CancellationToken.None).ConfigureAwait(false);
        }

        return sum;
    }

    private static async Task<int> ThroughAsync(ResiliencePipeline<int> pipeline)
    {
        var sum = 0;
        for (var i = 0; i < Calls; i++)
        {
            sum += await pipeline.ExecuteAsync(static (item, token) => Stage(item, token), i, CancellationToken.None).ConfigureAwait(false);
        }

        return sum;
    }
}
