namespace Pipeline;

/// <summary>Resilience settings of a stage: how its calls are retried and timed out.</summary>
public sealed class ResilienceSettings
{
    /// <summary>Gets or sets the retry settings.</summary>
    /// <value>The default value is <see langword="null"/> (no retry).</value>
    public RetrySettings? Retry { get; set; }

    /// <summary>Gets or sets how long one call of the stage may take.</summary>
    /// <value>The default value is <see langword="null"/> (no timeout). Allowed: 10 milliseconds to 1 day.</value>
    public TimeSpan? Timeout { get; set; }
}
