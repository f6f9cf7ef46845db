using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Pipeline;

/// <summary>Builds a stage's Polly pipeline from its <see cref="ResilienceSettings"/>: retry (outermost), then a timeout per attempt.</summary>
internal static class StageResilience
{
    public const int DefaultMaxRetryAttempts = 3;

    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(2);

    /// <summary>Returns the stage's pipeline, or <see langword="null"/> when the settings ask for nothing.</summary>
    public static ResiliencePipeline? Create(ResilienceSettings? settings, TimeProvider timeProvider, CancellationToken abortToken)
    {
        if (settings is null || (settings.Retry is null && settings.Timeout is null))
        {
            return null;
        }

        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (settings.Retry is { } retry)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = retry.MaxRetryAttempts ?? DefaultMaxRetryAttempts,
                Delay = retry.Delay ?? DefaultDelay,
                BackoffType = retry.BackoffType ?? DelayBackoffType.Constant,

                // An aborted run is not a transient failure.
                ShouldHandle = args => new ValueTask<bool>(
                    args.Outcome.Exception is not null && !(args.Outcome.Exception is OperationCanceledException && abortToken.IsCancellationRequested)),
            });
        }

        if (settings.Timeout is { } timeout)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = timeout });
        }

        return builder.Build();
    }
}
