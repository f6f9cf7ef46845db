namespace Pipeline;

/// <summary>Resilience settings of a stage: how its calls are retried and timed out.</summary>
public sealed class ResilienceSettings
{
    /// <summary>
    /// Gets or sets the name of a resilience pipeline registered with Polly's <c>AddResiliencePipeline</c> (Polly.Extensions) to run
    /// the stage's calls through instead of <see cref="Retry"/> and <see cref="Timeout"/>, which must then be unset.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (the pipeline is built from <see cref="Retry"/> and <see cref="Timeout"/>).</value>
    public string? Pipeline { get; set; }

    /// <summary>Gets or sets a rate limit on the stage's calls (each attempt waits for a permit; never rejected).</summary>
    /// <value>The default value is <see langword="null"/> (no limit).</value>
    public RateLimitSettings? RateLimit { get; set; }

    /// <summary>Gets or sets the retry settings.</summary>
    /// <value>The default value is <see langword="null"/> (no retry).</value>
    public RetrySettings? Retry { get; set; }

    /// <summary>
    /// Gets or sets how long one call of the stage may take (Polly's timeout strategy, per attempt). A call that has not finished
    /// by then times out (<c>Polly.Timeout.TimeoutRejectedException</c>, then retry and <c>OnError</c> apply) even if it ignores its
    /// cancellation token: it is abandoned — it may still be running, so a sink's write may still land — and its late result is
    /// discarded. Code that blocks its thread without returning a pending task (a synchronous <c>Thread.Sleep</c> or blocking I/O
    /// before its first <c>await</c>) cannot be cut off: it times out only once it returns.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no timeout). Allowed: 10 milliseconds to 1 day.</value>
    public TimeSpan? Timeout { get; set; }
}
