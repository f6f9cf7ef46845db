using System.Threading.RateLimiting;

namespace Pipeline;

/// <summary>
/// The token bucket behind a stage's <see cref="RateLimitSettings"/> (<c>System.Threading.RateLimiting</c>, refilled on its own timer
/// in real time: it takes no <see cref="TimeProvider"/>); its queue is unbounded, so a call waits for a permit and is never rejected.
/// </summary>
internal static class StageRateLimiter
{
    public static TokenBucketRateLimiter Create(RateLimitSettings settings)
    {
        // Refill often enough to stay smooth (every 10 ms at most), with a whole number of tokens each time.
        var period = TimeSpan.FromSeconds(Math.Max(1 / settings.PermitsPerSecond, 0.01));
        var tokensPerPeriod = Math.Max(1, (int)Math.Round(settings.PermitsPerSecond * period.TotalSeconds));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            // A bucket smaller than one refill would cap the rate below PermitsPerSecond: a Burst that small is raised to one refill.
            TokenLimit = Math.Max(tokensPerPeriod, settings.Burst ?? Math.Max(1, (int)Math.Min(settings.PermitsPerSecond, int.MaxValue))),
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }
}
