using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Polly.Telemetry;
using Polly.Testing;
using Polly.Timeout;

namespace Pipeline;

/// <summary>
/// Builds a stage's Polly pipeline from its <see cref="ResilienceSettings"/>: retry (outermost), then per attempt a rate limit, a
/// circuit breaker and a timeout (why in this order: <see cref="ResilienceSettings"/>), with the breaker's pause around it all; or takes
/// the one registered under <see cref="ResilienceSettings.Pipeline"/> with <c>AddResiliencePipeline</c>. Built pipelines report
/// Polly's telemetry (retries, timeouts, circuit transitions: the <c>Polly</c> meter and logs, warnings and worse) with the pipeline's
/// name as Polly's <c>pipeline.name</c> and the stage's as <c>pipeline.instance</c>, but not the events of every call
/// (<see cref="PerCallQuietTelemetryListener"/>).
/// </summary>
internal static class StageResilience
{
    public const int DefaultMaxRetryAttempts = 3;

    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Returns the stage's pipeline, or <see langword="null"/> when the settings ask for nothing or name a registered pipeline with no
    /// strategy (see <see cref="IsEmpty"/>): the stage then runs as one without resilience. A pipeline built here is typed by the
    /// stage's result, <typeparamref name="TResult"/>: Polly's non-generic strategies would box a value-type result on every call.
    /// </summary>
    /// <exception cref="InvalidOperationException">Thrown when <see cref="ResilienceSettings.Pipeline"/> names no registered pipeline.</exception>
    public static ResilientCall<TResult>? Create<TResult>(
        ResilienceSettings? settings, PipelineLifecycle lifecycle, IServiceProvider? services, string stageName, Action<object> own)
    {
        var timeProvider = lifecycle.TimeProvider;
        var pipelineName = lifecycle.PipelineName;
        var abortToken = lifecycle.AbortToken;
        if (settings?.Pipeline is { } named)
        {
            var registry = services?.GetService<ResiliencePipelineProvider<string>>();
            if (registry is null || !registry.TryGetPipeline(named, out var registered))
            {
                throw new InvalidOperationException(
                    $"Pipelines:{pipelineName}:Stages:{stageName}:Resilience:Pipeline names '{named}', which is not registered with AddResiliencePipeline.");
            }

            // A pipeline with no strategy, which no reload can change, would only hand each call back to the stage (at Polly's fixed
            // price per execution): the stage runs as one without resilience.
            return IsEmpty(registered) ? null : new ResilientCall<TResult>(registered, typed: null, pause: null, abortToken);
        }

        if (settings is null || (settings.Retry is null && settings.Timeout is null && settings.RateLimit is null && settings.CircuitBreaker is null))
        {
            return null;
        }

        var builder = new ResiliencePipelineBuilder<TResult> { TimeProvider = timeProvider, Name = pipelineName, InstanceName = stageName };
        if (settings.Retry is { } retry)
        {
            builder.AddRetry(new RetryStrategyOptions<TResult>
            {
                MaxRetryAttempts = retry.MaxRetryAttempts ?? DefaultMaxRetryAttempts,
                Delay = retry.Delay ?? DefaultDelay,
                MaxDelay = retry.MaxDelay,
                BackoffType = retry.BackoffType ?? DelayBackoffType.Constant,
                UseJitter = retry.UseJitter ?? false,

                // An aborted run is not a transient failure; an open circuit ends the retries at once (fail fast, or the pause).
                ShouldHandle = args => new ValueTask<bool>(IsFailure(args.Outcome.Exception, abortToken) && args.Outcome.Exception is not BrokenCircuitException),
            });
        }

        if (settings.RateLimit is { } rateLimit)
        {
            // Per attempt, outside the timeout: waiting for a permit is not the call's time.
            var limiter = new ReloadableRateLimiter(stageName, rateLimit, timeProvider);
            own(limiter);
            builder.AddRateLimiter(limiter);
        }

        CircuitPause? pause = null;
        if (settings.CircuitBreaker is { } breaker)
        {
            var options = new CircuitBreakerStrategyOptions<TResult> { ShouldHandle = args => new ValueTask<bool>(IsFailure(args.Outcome.Exception, abortToken)) };
            options.FailureRatio = breaker.FailureRatio ?? options.FailureRatio;
            options.MinimumThroughput = breaker.MinimumThroughput ?? options.MinimumThroughput;
            options.SamplingDuration = breaker.SamplingDuration ?? options.SamplingDuration;
            options.BreakDuration = breaker.BreakDuration ?? options.BreakDuration;
            options.StateProvider = new CircuitBreakerStateProvider();
            pause = new CircuitPause(options.StateProvider, options.BreakDuration, timeProvider, lifecycle.Logger, pipelineName, stageName);
            options.OnOpened = pause.OnOpened;
            options.OnClosed = pause.OnClosed;
            options.OnHalfOpened = pause.OnHalfOpened;
            builder.AddCircuitBreaker(options);
            if ((breaker.WhenOpen ?? CircuitOpenBehavior.Pause) != CircuitOpenBehavior.Pause)
            {
                // Fail fast: the transitions are still logged, nothing waits.
                pause = null;
            }
        }

        if (settings.Timeout is { } timeout)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = timeout });
        }

        if (services?.GetService<ILoggerFactory>() is { } loggerFactory)
        {
            builder.ConfigureTelemetry(new TelemetryOptions { LoggerFactory = new WarningsOnlyLoggerFactory(loggerFactory) });
            if (builder.TelemetryListener is { } pollyListener)
            {
                builder.TelemetryListener = new PerCallQuietTelemetryListener(pollyListener);
            }
        }

        return new ResilientCall<TResult>(untyped: null, builder.Build(), pause, abortToken);
    }

    /// <summary>
    /// Whether <paramref name="pipeline"/> has no strategy and is not reloadable, as <c>Polly.Testing</c>'s descriptor of its
    /// composition reports it. Polly builds a pipeline with no strategy as its empty component, which reports no telemetry: running a
    /// call through it only runs the call (inside the registry's tracking of executions for disposal). <c>Polly.Testing</c> reads
    /// <c>Polly.Core</c>'s internals, so its version is pinned with <c>Polly.Core</c>'s; should it not match the <c>Polly.Core</c> an
    /// application loads, the descriptor cannot be read and the pipeline counts as not empty (it is run).
    /// </summary>
    internal static bool IsEmpty(ResiliencePipeline pipeline)
    {
        try
        {
            return pipeline.GetPipelineDescriptor() is { IsReloadable: false, Strategies.Count: 0 };
        }
        catch (Exception exception) when (exception is MissingMemberException or TypeLoadException or InvalidCastException)
        {
            return false;
        }
    }

    /// <summary>Whether an attempt's outcome is a failure to retry or count: an exception, other than the run's abort.</summary>
    private static bool IsFailure(Exception? exception, CancellationToken abortToken) =>
        exception is not null && !(exception is OperationCanceledException && abortToken.IsCancellationRequested);

    /// <summary>Whether <paramref name="name"/> is a resilience pipeline registered with <c>AddResiliencePipeline</c> in <paramref name="services"/>.</summary>
    public static bool IsRegistered(IServiceProvider? services, string name) =>
        services?.GetService<ResiliencePipelineProvider<string>>() is { } registry && registry.TryGetPipeline(name, out _);
}
