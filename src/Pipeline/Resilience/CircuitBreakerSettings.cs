namespace Pipeline;

/// <summary>
/// A circuit breaker on a stage's calls (Polly's circuit breaker strategy; the option names and ranges are Polly's
/// <c>CircuitBreakerStrategyOptions</c>, and so are the defaults of values left <see langword="null"/>). The circuit opens when, within
/// <see cref="SamplingDuration"/>, at least <see cref="MinimumThroughput"/> calls were made and the share that failed reached
/// <see cref="FailureRatio"/>; it stays open for <see cref="BreakDuration"/>, then lets one call through (the half-open probe), and
/// closes when that call succeeds. What an open circuit does to the stage is <see cref="WhenOpen"/>.
/// </summary>
public sealed class CircuitBreakerSettings
{
    /// <summary>The smallest allowed <see cref="MinimumThroughput"/> (Polly's).</summary>
    public const int MinMinimumThroughput = 2;

    /// <summary>The smallest allowed <see cref="SamplingDuration"/> and <see cref="BreakDuration"/> (Polly's): half a second.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(500);

    /// <summary>The largest allowed <see cref="SamplingDuration"/> and <see cref="BreakDuration"/> (Polly's): one day.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>Gets or sets the share of failed calls (failed ÷ calls within <see cref="SamplingDuration"/>) at which the circuit opens.</summary>
    /// <value>The default value is <see langword="null"/>, which means Polly's 0.1. Allowed: 0 to 1.</value>
    [SettingRange(0, 1)]
    public double? FailureRatio { get; set; }

    /// <summary>Gets or sets how many calls must have been made within <see cref="SamplingDuration"/> before the circuit may open.</summary>
    /// <value>The default value is <see langword="null"/>, which means Polly's 100. Allowed: 2 or more.</value>
    [SettingRange(MinMinimumThroughput)]
    public int? MinimumThroughput { get; set; }

    /// <summary>Gets or sets the window over which <see cref="FailureRatio"/> is measured.</summary>
    /// <value>The default value is <see langword="null"/>, which means Polly's 30 seconds. Allowed: 0.5 seconds to 1 day.</value>
    [SettingRange("00:00:00.5000000", "1.00:00:00")]
    public TimeSpan? SamplingDuration { get; set; }

    /// <summary>Gets or sets how long the circuit stays open before it lets a probe through.</summary>
    /// <value>The default value is <see langword="null"/>, which means Polly's 5 seconds. Allowed: 0.5 seconds to 1 day.</value>
    [SettingRange("00:00:00.5000000", "1.00:00:00")]
    public TimeSpan? BreakDuration { get; set; }

    /// <summary>Gets or sets what the stage does with an item whose call meets the open circuit.</summary>
    /// <value>The default value is <see langword="null"/>, which means <see cref="CircuitOpenBehavior.Pause"/>.</value>
    public CircuitOpenBehavior? WhenOpen { get; set; }
}
