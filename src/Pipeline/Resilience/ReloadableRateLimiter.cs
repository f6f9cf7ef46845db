using System.Threading.RateLimiting;

namespace Pipeline;

/// <summary>
/// A stage's rate limit whose rate can change while the run goes on (a configuration reload of <c>RateLimit</c>): calls go to the
/// current token bucket (<see cref="StageRateLimiter"/>); a change puts a new bucket in place for the calls that come after it,
/// while calls already waiting for a permit of the old one keep waiting there (never rejected) and the old bucket is disposed
/// once nobody waits on it. Thread-safe.
/// </summary>
internal sealed class ReloadableRateLimiter(string stageName, RateLimitSettings settings) : RateLimiter
{
    private readonly Lock _sync = new();
    private readonly List<TokenBucketRateLimiter> _retired = [];
    private TokenBucketRateLimiter _current = StageRateLimiter.Create(settings);
    private RateLimitSettings _settings = settings;
    private bool _disposed;

    /// <summary>Gets the stage this limiter belongs to.</summary>
    public string StageName { get; } = stageName;

    /// <summary>Gets the settings now in force.</summary>
    public RateLimitSettings Settings
    {
        get
        {
            lock (_sync)
            {
                return _settings;
            }
        }
    }

    /// <inheritdoc/>
    public override TimeSpan? IdleDuration => Volatile.Read(ref _current).IdleDuration;

    /// <summary>Puts a bucket with <paramref name="settings"/> in place; returns <see langword="false"/> if they equal the current ones.</summary>
    public bool Change(RateLimitSettings settings)
    {
        TokenBucketRateLimiter[] idle;
        lock (_sync)
        {
            if (_disposed || (_settings.PermitsPerSecond == settings.PermitsPerSecond && _settings.Burst == settings.Burst))
            {
                return false;
            }

            _retired.Add(_current);
            _current = StageRateLimiter.Create(settings);
            _settings = settings;
            idle = TakeIdleRetired();
        }

        DisposeAll(idle);
        return true;
    }

    /// <inheritdoc/>
    public override RateLimiterStatistics? GetStatistics() => Volatile.Read(ref _current).GetStatistics();

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Volatile.Read(ref _current).AttemptAcquire(permitCount);

    /// <inheritdoc/>
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var lease = await Volatile.Read(ref _current).AcquireAsync(permitCount, cancellationToken).ConfigureAwait(false);
        TokenBucketRateLimiter[] idle;
        lock (_sync)
        {
            idle = _retired.Count == 0 ? [] : TakeIdleRetired();
        }

        DisposeAll(idle);
        return lease;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            TokenBucketRateLimiter[] all;
            lock (_sync)
            {
                _disposed = true;
                all = [.. _retired, _current];
                _retired.Clear();
            }

            DisposeAll(all);
        }

        base.Dispose(disposing);
    }

    /// <summary>Removes and returns the retired buckets nobody waits on any more. Called under <see cref="_sync"/>.</summary>
    private TokenBucketRateLimiter[] TakeIdleRetired()
    {
        var idle = _retired.Where(bucket => bucket.GetStatistics() is not { CurrentQueuedCount: > 0 }).ToArray();
        foreach (var bucket in idle)
        {
            _retired.Remove(bucket);
        }

        return idle;
    }

    private static void DisposeAll(TokenBucketRateLimiter[] buckets)
    {
        foreach (var bucket in buckets)
        {
            bucket.Dispose();
        }
    }
}
