namespace Pipeline;

/// <summary>
/// Resilience settings of a stage: how its calls are rate-limited, retried, broken off by a circuit breaker and timed out. The
/// strategies wrap each call in this order, outermost first: <see cref="Retry"/>, <see cref="RateLimit"/>, <see cref="CircuitBreaker"/>,
/// <see cref="Timeout"/>. Each attempt waits for its own permit (a retry storm cannot outrun the limit), and the wait is not part of
/// the attempt's time; the breaker sees every attempt's outcome, a timed-out attempt as a failure; a circuit that is open ends the
/// retries at once. With <see cref="CircuitOpenBehavior.Pause"/> the stage's pause waits outside all of them and runs the call again,
/// retries and all, once the break has ended.
/// </summary>
public sealed class ResilienceSettings
{
    /// <summary>
    /// Gets or sets the name of a resilience pipeline registered with Polly's <c>AddResiliencePipeline</c> (Polly.Extensions) to run
    /// the stage's calls through instead of <see cref="Retry"/>, <see cref="Timeout"/>, <see cref="RateLimit"/> and <see cref="CircuitBreaker"/>,
    /// which must then be unset. The pipeline must be registered untyped, with a <see cref="string"/> key
    /// (<c>AddResiliencePipeline(name, builder =&gt; …)</c>). A registered pipeline with no strategy that is not reloadable (as
    /// <c>Polly.Testing</c>'s descriptor reports it) is not run: the stage runs exactly as one without resilience, sparing Polly's fixed
    /// price per execution.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (the pipeline is built from <see cref="Retry"/>, <see cref="Timeout"/>,
    /// <see cref="RateLimit"/> and <see cref="CircuitBreaker"/>).</value>
    public string? Pipeline { get; set; }

    /// <summary>Gets or sets a rate limit on the stage's calls (each attempt waits for a permit; never rejected).</summary>
    /// <value>The default value is <see langword="null"/> (no limit).</value>
#pragma warning disable SYSLIB1212 // Validated under its own configuration key by PipelineOptionsValidator, not as a member.
    public RateLimitSettings? RateLimit { get; set; }
#pragma warning restore SYSLIB1212

    /// <summary>Gets or sets a circuit breaker on the stage's calls; an open circuit pauses the stage by default (<see cref="CircuitBreakerSettings.WhenOpen"/>).</summary>
    /// <value>The default value is <see langword="null"/> (no circuit breaker).</value>
#pragma warning disable SYSLIB1212 // Validated under its own configuration key by PipelineOptionsValidator, not as a member.
    public CircuitBreakerSettings? CircuitBreaker { get; set; }
#pragma warning restore SYSLIB1212

    /// <summary>Gets or sets the retry settings.</summary>
    /// <value>The default value is <see langword="null"/> (no retry).</value>
#pragma warning disable SYSLIB1212 // Validated under its own configuration key by PipelineOptionsValidator, not as a member.
    public RetrySettings? Retry { get; set; }
#pragma warning restore SYSLIB1212

    /// <summary>
    /// Gets or sets how long one call of the stage may take (Polly's timeout strategy, per attempt). A call that has not finished
    /// by then times out (<c>Polly.Timeout.TimeoutRejectedException</c>, then retry and <c>OnError</c> apply) even if it ignores its
    /// cancellation token: it is abandoned — it may still be running, so a sink's write may still land — and its late result is
    /// discarded. Code that blocks its thread without returning a pending task (a synchronous <c>Thread.Sleep</c> or blocking I/O
    /// before its first <c>await</c>) cannot be cut off: it times out only once it returns.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no timeout). Allowed: 10 milliseconds to 1 day.</value>
    [SettingRange("00:00:00.0100000", "1.00:00:00")]
    public TimeSpan? Timeout { get; set; }
}
