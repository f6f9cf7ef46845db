using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Registry;
using Polly.Retry;
using Polly.Telemetry;
using Polly.Timeout;

namespace Pipeline;

/// <summary>
/// Builds a stage's Polly pipeline from its <see cref="ResilienceSettings"/>: retry (outermost), then per attempt a rate limit and a
/// timeout; or takes
/// the one registered under <see cref="ResilienceSettings.Pipeline"/> with <c>AddResiliencePipeline</c>. Built pipelines report
/// Polly's telemetry (retries, timeouts: the <c>Polly</c> meter and logs) with the pipeline's name as Polly's <c>pipeline.name</c>
/// and the stage's as <c>pipeline.instance</c>.
/// </summary>
internal static class StageResilience
{
    public const int DefaultMaxRetryAttempts = 3;

    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(2);

    /// <summary>Returns the stage's pipeline, or <see langword="null"/> when the settings ask for nothing.</summary>
    /// <exception cref="InvalidOperationException">Thrown when <see cref="ResilienceSettings.Pipeline"/> names no registered pipeline.</exception>
    public static ResiliencePipeline? Create(
        ResilienceSettings? settings, TimeProvider timeProvider, IServiceProvider? services, string pipelineName, string stageName, Action<object> own, CancellationToken abortToken)
    {
        if (settings?.Pipeline is { } named)
        {
            var registry = services?.GetService<ResiliencePipelineProvider<string>>();
            if (registry is null || !registry.TryGetPipeline(named, out var registered))
            {
                throw new InvalidOperationException(
                    $"Pipelines:{pipelineName}:Stages:{stageName}:Resilience:Pipeline names '{named}', which is not registered with AddResiliencePipeline.");
            }

            return registered;
        }

        if (settings is null || (settings.Retry is null && settings.Timeout is null && settings.RateLimit is null))
        {
            return null;
        }

        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider, Name = pipelineName, InstanceName = stageName };
        if (settings.Retry is { } retry)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = retry.MaxRetryAttempts ?? DefaultMaxRetryAttempts,
                Delay = retry.Delay ?? DefaultDelay,
                MaxDelay = retry.MaxDelay,
                BackoffType = retry.BackoffType ?? DelayBackoffType.Constant,
                UseJitter = retry.UseJitter ?? false,

                // An aborted run is not a transient failure.
                ShouldHandle = args => new ValueTask<bool>(
                    args.Outcome.Exception is not null && !(args.Outcome.Exception is OperationCanceledException && abortToken.IsCancellationRequested)),
            });
        }

        if (settings.RateLimit is { } rateLimit)
        {
            // Per attempt, outside the timeout: waiting for a permit is not the call's time.
            var limiter = new ReloadableRateLimiter(stageName, rateLimit);
            own(limiter);
            builder.AddRateLimiter(limiter);
        }

        if (settings.Timeout is { } timeout)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = timeout });
        }

        if (services?.GetService<ILoggerFactory>() is { } loggerFactory)
        {
            builder.ConfigureTelemetry(new TelemetryOptions { LoggerFactory = new WarningsOnlyLoggerFactory(loggerFactory) });
        }

        return builder.Build();
    }

    /// <summary>Whether <paramref name="name"/> is a resilience pipeline registered with <c>AddResiliencePipeline</c> in <paramref name="services"/>.</summary>
    public static bool IsRegistered(IServiceProvider? services, string name) =>
        services?.GetService<ResiliencePipelineProvider<string>>() is { } registry && registry.TryGetPipeline(name, out _);
}
