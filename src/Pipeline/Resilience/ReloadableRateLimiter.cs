using System.Threading.RateLimiting;

namespace Pipeline;

/// <summary>
/// A stage's rate limit whose rate can change while the run goes on (a configuration reload of <c>RateLimit</c>): calls go to the
/// current token bucket (<see cref="StageRateLimiter"/>); a change puts a new bucket in place for the calls that come after it,
/// while calls already waiting for a permit of the old one keep waiting there (never rejected). Replaced buckets are kept until
/// the limiter is disposed at the run's end, so no call ever meets a disposed one; a reload is rare, and an idle bucket costs
/// one timer of the run's <see cref="TimeProvider"/>. Thread-safe; a call takes no lock.
/// </summary>
internal sealed class ReloadableRateLimiter(string stageName, RateLimitSettings settings, TimeProvider timeProvider) : RateLimiter
{
    private readonly Lock _sync = new();
    private readonly List<StageRateLimiter> _replaced = [];
    private StageRateLimiter _current = new(settings, timeProvider);
    private RateLimitSettings _settings = settings;
    private bool _disposed;

    /// <summary>Gets the stage this limiter belongs to.</summary>
    public string StageName { get; } = stageName;

    /// <inheritdoc/>
    public override TimeSpan? IdleDuration => Volatile.Read(ref _current).IdleDuration;

    /// <summary>Puts a bucket with <paramref name="settings"/> in place; returns <see langword="false"/> if they equal the current ones.</summary>
    public bool Change(RateLimitSettings settings)
    {
        lock (_sync)
        {
            if (_disposed || (_settings.PermitsPerSecond == settings.PermitsPerSecond && _settings.Burst == settings.Burst))
            {
                return false;
            }

            _replaced.Add(_current);
            Volatile.Write(ref _current, new StageRateLimiter(settings, timeProvider));
            _settings = settings;
            return true;
        }
    }

    /// <inheritdoc/>
    public override RateLimiterStatistics? GetStatistics() => Volatile.Read(ref _current).GetStatistics();

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Volatile.Read(ref _current).AttemptAcquire(permitCount);

    /// <inheritdoc/>
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        Volatile.Read(ref _current).AcquireAsync(permitCount, cancellationToken);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            StageRateLimiter[] all;
            lock (_sync)
            {
                _disposed = true;
                all = [.. _replaced, _current];
                _replaced.Clear();
            }

            foreach (var bucket in all)
            {
                bucket.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
