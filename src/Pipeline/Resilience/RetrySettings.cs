using Polly;

namespace Pipeline;

/// <summary>Retry settings of a stage.</summary>
public sealed class RetrySettings
{
    /// <summary>The largest allowed <see cref="MaxRetryAttempts"/>.</summary>
    public const int MaxAllowedRetryAttempts = 100;

    /// <summary>Gets or sets how many times a failed call is retried.</summary>
    /// <value>The default value is <see langword="null"/>, which means 3. Allowed: 1 to 100.</value>
    [SettingRange(1, MaxAllowedRetryAttempts)]
    public int? MaxRetryAttempts { get; set; }

    /// <summary>Gets or sets the delay before the first retry.</summary>
    /// <value>The default value is <see langword="null"/>, which means 2 seconds. Allowed: 0 to 1 day.</value>
    [SettingRange("00:00:00", "1.00:00:00")]
    public TimeSpan? Delay { get; set; }

    /// <summary>Gets or sets how the delay grows between retries.</summary>
    /// <value>The default value is <see langword="null"/>, which means <see cref="DelayBackoffType.Constant"/>.</value>
    public DelayBackoffType? BackoffType { get; set; }

    /// <summary>Gets or sets the longest delay between retries, however the backoff grows (Polly's <c>RetryStrategyOptions.MaxDelay</c>).</summary>
    /// <value>The default value is <see langword="null"/> (no cap). Allowed: 0 to 1 day.</value>
    [SettingRange("00:00:00", "1.00:00:00")]
    public TimeSpan? MaxDelay { get; set; }

    /// <summary>Gets or sets whether the delays are randomized so that many callers do not retry in step (Polly's <c>UseJitter</c>).</summary>
    /// <value>The default value is <see langword="null"/>, which means <see langword="false"/>.</value>
    public bool? UseJitter { get; set; }
}
