namespace Pipeline;

/// <summary>
/// A rate limit on a stage's calls (a token bucket, a <c>System.Threading.RateLimiting</c> limiter through Polly.RateLimiting): a call
/// waits for a permit — back-pressure that reaches the source — and is never rejected, in first-in, first-out order. The bucket
/// fills on the run's <see cref="TimeProvider"/> (so a fake clock drives it in tests).
/// </summary>
public sealed class RateLimitSettings
{
    /// <summary>The largest allowed <see cref="PermitsPerSecond"/>.</summary>
    public const double MaxPermitsPerSecond = 1_000_000;

    /// <summary>Gets or sets how many calls per second the stage may start, on average.</summary>
    /// <value>Required. Allowed: more than 0, up to 1,000,000.</value>
    [SettingRange(0, MaxPermitsPerSecond, MinimumIsExclusive = true)]
    public double PermitsPerSecond { get; set; }

    /// <summary>Gets or sets how many calls may start at once after an idle spell (the bucket's size).</summary>
    /// <value>
    /// The default value is <see langword="null"/>, which means one second's permits (at least 1). Allowed: 1 or more. A burst
    /// smaller than 10 ms of permits (<c>PermitsPerSecond × 0.01</c>) is raised to it: waiting calls are served by a timer, and a
    /// smaller bucket would hold the rate below <see cref="PermitsPerSecond"/>.
    /// </value>
    [SettingRange(1)]
    public int? Burst { get; set; }
}
