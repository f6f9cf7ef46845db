using System.Threading.RateLimiting;

namespace Pipeline;

/// <summary>
/// The token bucket behind a stage's <see cref="RateLimitSettings"/>: a <c>System.Threading.RateLimiting</c>
/// <see cref="TokenBucketRateLimiter"/> refilled by a timer of the run's <see cref="TimeProvider"/> (the limiter's own timer
/// runs in real time and takes no <see cref="TimeProvider"/>), so a fake clock drives the rate as it drives Polly's delays. Its
/// queue is unbounded, so a call waits for a permit and is never rejected. Thread-safe; dispose it to stop the timer and end
/// the calls still waiting (they get a failed lease, which only happens at the run's end).
/// </summary>
internal sealed class StageRateLimiter : IDisposable
{
    private readonly ITimer _refill;

    public StageRateLimiter(RateLimitSettings settings, TimeProvider timeProvider)
    {
        // Refill often enough to stay smooth (every 10 ms at most), with a whole number of tokens each time.
        var period = TimeSpan.FromSeconds(Math.Max(1 / settings.PermitsPerSecond, 0.01));
        var tokensPerPeriod = Math.Max(1, (int)Math.Round(settings.PermitsPerSecond * period.TotalSeconds));
        Bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            // A bucket smaller than one refill would cap the rate below PermitsPerSecond: a Burst that small is raised to one refill.
            TokenLimit = Math.Max(tokensPerPeriod, settings.Burst ?? Math.Max(1, (int)Math.Min(settings.PermitsPerSecond, int.MaxValue))),
            TokensPerPeriod = tokensPerPeriod,

            // Refilled by the timer below: the limiter itself skips a refill that comes less than ReplenishmentPeriod of real
            // time after the last, so that period is one tick and the timer's period, in the run's time, sets the rate.
            ReplenishmentPeriod = TimeSpan.FromTicks(1),
            AutoReplenishment = false,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _refill = timeProvider.CreateTimer(static state => ((TokenBucketRateLimiter)state!).TryReplenish(), Bucket, period, period);
    }

    /// <summary>Gets the bucket calls take their permits from.</summary>
    public TokenBucketRateLimiter Bucket { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        _refill.Dispose();
        Bucket.Dispose();
    }
}
