using System.Threading.RateLimiting;

namespace Pipeline;

/// <summary>
/// The token bucket behind a stage's <see cref="RateLimitSettings"/>, on the run's <see cref="TimeProvider"/>: it holds up to
/// <c>Burst</c> permits (full at the start) and gains <c>PermitsPerSecond</c> per second of that clock, computed from its timestamps
/// when a call comes and by one timer set for when the oldest waiting call can be served. Calls wait in first-in, first-out order
/// and are never rejected (an unbounded queue: back-pressure). A <see cref="RateLimiter"/> for Polly's <c>AddRateLimiter</c>.
/// </summary>
/// <remarks>
/// <c>System.Threading.RateLimiting</c>'s <see cref="TokenBucketRateLimiter"/> refills by its own real-time timer and takes no
/// <see cref="TimeProvider"/>, so a fake clock could not drive it; this bucket keeps its semantics (burst, rate, a queue that
/// waits) on the run's clock. Thread-safe. Disposing it completes the calls still waiting with a lease that is not acquired.
/// </remarks>
internal sealed class StageRateLimiter : RateLimiter
{
    /// <summary>Permits short of a whole one by less than this count as whole (the bucket's arithmetic is in floating point).</summary>
    private const double Tolerance = 1e-9;

    /// <summary>The longest a timer is set for: one day, in milliseconds.</summary>
    private const double MaxWaitMilliseconds = 24 * 60 * 60 * 1000;

    private static readonly RateLimitLease s_acquired = new Lease(true);
    private static readonly RateLimitLease s_refused = new Lease(false);

    private readonly object _sync = new();
    private readonly TimeProvider _timeProvider;
    private readonly double _permitsPerSecond;
    private readonly double _burst;
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly ITimer _timer;
    private double _permits;
    private long _refilledAt;
    private long? _idleSince;
    private long _acquired;
    private bool _disposed;

    public StageRateLimiter(RateLimitSettings settings, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _permitsPerSecond = settings.PermitsPerSecond;
        // A bucket smaller than 10 ms of permits would cap the rate at what a timer can serve (one wake-up per millisecond or so):
        // a Burst that small is raised to it.
        _burst = EffectiveBurst(settings);
        _permits = _burst;
        _refilledAt = timeProvider.GetTimestamp();
        _idleSince = _refilledAt;
        _timer = timeProvider.CreateTimer(static state => ((StageRateLimiter)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The bucket's size for <paramref name="settings"/>: <see cref="RateLimitSettings.Burst"/>, or one second's permits when unset
    /// (at least 1), raised to 10 ms of permits when smaller.
    /// </summary>
    public static double EffectiveBurst(RateLimitSettings settings) =>
        Math.Max(Math.Max(1, settings.PermitsPerSecond * 0.01), settings.Burst ?? Math.Max(1, Math.Min(settings.PermitsPerSecond, int.MaxValue)));

    /// <inheritdoc/>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_sync)
            {
                return _idleSince is { } since ? _timeProvider.GetElapsedTime(since) : null;
            }
        }
    }

    /// <inheritdoc/>
    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_sync)
        {
            Refill();
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = (long)(_permits + Tolerance),
                CurrentQueuedCount = _waiters.Count,
                TotalSuccessfulLeases = _acquired,
                TotalFailedLeases = 0,
            };
        }
    }

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_sync)
        {
            return !_disposed && _waiters.Count == 0 && TryTake(permitCount) ? s_acquired : s_refused;
        }
    }

    /// <inheritdoc/>
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount > _burst)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, $"A call may ask for at most the burst, {_burst} permits.");
        }

        Waiter waiter;
        lock (_sync)
        {
            if (_disposed)
            {
                return new ValueTask<RateLimitLease>(s_refused);
            }

            if (_waiters.Count == 0 && TryTake(permitCount))
            {
                return new ValueTask<RateLimitLease>(s_acquired);
            }

            cancellationToken.ThrowIfCancellationRequested();
            waiter = new Waiter(permitCount, this);
            waiter.Node = _waiters.AddLast(waiter);
            _idleSince = null;
            ScheduleLocked();

            // Registered under the lock (it is re-entrant): a token cancelled meanwhile removes the waiter at once, on this thread.
            // Registrations are only unregistered, never disposed (which would wait for a running callback that needs the lock).
            if (cancellationToken.CanBeCanceled)
            {
                waiter.Registration = cancellationToken.Register(static (state, token) => ((Waiter)state!).Owner.Cancel((Waiter)state!, token), waiter);
                if (waiter.Node.List is null)
                {
                    // Served already, by a timer that a fake clock ran inside the scheduling above.
                    waiter.Registration.Unregister();
                }
            }
        }

        return new ValueTask<RateLimitLease>(waiter.Completion.Task);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            List<Waiter> waiting;
            lock (_sync)
            {
                _disposed = true;
                waiting = [.. _waiters];
                _waiters.Clear();
            }

            _timer.Dispose();
            foreach (var waiter in waiting)
            {
                waiter.Registration.Unregister();
                waiter.Completion.TrySetResult(s_refused);
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>Adds what the clock earned since the last refill, up to the burst. Under the lock.</summary>
    private void Refill()
    {
        var now = _timeProvider.GetTimestamp();
        var seconds = (now - _refilledAt) / (double)_timeProvider.TimestampFrequency;
        _refilledAt = now;
        _permits = Math.Min(_burst, _permits + (seconds * _permitsPerSecond));
    }

    /// <summary>Takes <paramref name="count"/> permits if the bucket holds them. Under the lock.</summary>
    private bool TryTake(int count)
    {
        Refill();
        if (_permits + Tolerance < count)
        {
            return false;
        }

        _permits = Math.Max(0, _permits - count);
        _acquired++;
        return true;
    }

    /// <summary>Sets the timer for when the oldest waiting call can be served. Under the lock.</summary>
    private void ScheduleLocked()
    {
        if (_waiters.First is not { } first)
        {
            return;
        }

        // When the bucket, as of its last refill, will hold what the oldest call asks for: a time on the clock, not a delay, since
        // the clock may move between this look and the timer's setting (a fake clock advanced by another thread).
        var missing = Math.Max(0, first.Value.Count - _permits);
        var frequency = _timeProvider.TimestampFrequency;
        var due = _refilledAt + (long)Math.Min(Math.Ceiling(missing / _permitsPerSecond * frequency), long.MaxValue / 4);
        var wait = due - _timeProvider.GetTimestamp();

        // Whole milliseconds, rounded up (a timer rounds down, and one that fires early only finds the bucket short and is set
        // again), and at most a day (timers take less than 49.7 days; a call at a very low rate just looks again after a day).
        var milliseconds = wait <= 0 ? 0 : Math.Min(Math.Ceiling(wait * 1000.0 / frequency), MaxWaitMilliseconds);
        _timer.Change(TimeSpan.FromMilliseconds(milliseconds), Timeout.InfiniteTimeSpan);
        if (wait > 0 && _timeProvider.GetTimestamp() >= due)
        {
            // The clock passed the time while the timer was being set, which may then count from the later time: serve now.
            _timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>After calls left the queue: idle from now when none waits, else the timer set for the oldest. Under the lock.</summary>
    private void AfterDequeueLocked()
    {
        if (_waiters.Count == 0)
        {
            _idleSince = _timeProvider.GetTimestamp();
        }
        else
        {
            ScheduleLocked();
        }
    }

    private void OnTimer()
    {
        List<Waiter>? served = null;
        try
        {
            lock (_sync)
            {
                if (_disposed)
                {
                    return;
                }

                while (_waiters.First is { } first && TryTake(first.Value.Count))
                {
                    _waiters.RemoveFirst();
                    (served ??= []).Add(first.Value);
                }

                AfterDequeueLocked();
            }
        }
        finally
        {
            // A fake clock may run this inside another call that holds the lock: unregistering does not wait for a cancellation
            // callback that is waiting for it.
            if (served is not null)
            {
                foreach (var waiter in served)
                {
                    waiter.Registration.Unregister();
                    waiter.Completion.TrySetResult(s_acquired);
                }
            }
        }
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        lock (_sync)
        {
            if (waiter.Node?.List is null)
            {
                // Served (or disposed) first.
                return;
            }

            _waiters.Remove(waiter.Node);
            AfterDequeueLocked();
        }

        waiter.Completion.TrySetCanceled(token);
    }

    /// <summary>A call waiting for permits.</summary>
    private sealed class Waiter(int count, StageRateLimiter owner)
    {
        public int Count { get; } = count;

        public StageRateLimiter Owner { get; } = owner;

        public TaskCompletionSource<RateLimitLease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public override bool IsAcquired { get; } = acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
