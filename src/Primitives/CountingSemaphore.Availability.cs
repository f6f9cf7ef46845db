using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

public partial class CountingSemaphore
{
    /// <summary>
    /// Callers waiting until a permit is available, without taking one. Every release that leaves permits
    /// available wakes all of them; they race for the permits with <see cref="TryAcquire()"/> like any running caller.
    /// </summary>
    private readonly WaitQueue _watchers = new(owner: null);

    /// <summary>
    /// Blocks the calling thread until a permit is available or <paramref name="timeout"/> passes, without taking the
    /// permit.
    /// </summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> only checks.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>
    /// <see langword="true"/> when a permit was available at some moment of the wait; <see langword="false"/> if the
    /// timeout passed first. Nothing is reserved for the caller: follow with <see cref="TryAcquire()"/>, which another
    /// caller may win.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a permit is available.</exception>
    /// <remarks>
    /// <see cref="Acquire"/> hands a released permit to the oldest queued caller, so until that caller runs the permit
    /// is held by a party that is not running and <see cref="CurrentCount"/> does not show it. A wait of this kind
    /// takes nothing, so a permit is never in transit: whoever runs first takes it. A release wakes every caller
    /// waiting this way (as a write wakes every <c>WaitToReadAsync</c> of a channel); callers waiting in
    /// <see cref="Acquire"/> are served first.
    /// </remarks>
    public bool WaitAvailable(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        cancellationToken.ThrowIfCancellationRequested();
        if (CurrentCount > 0)
        {
            return true;
        }

        if (milliseconds == 0)
        {
            return false;
        }

        var watcher = EnqueueWatcher(isSync: true);
        if (watcher is null)
        {
            return true;
        }

        watcher.Arm(Timeouts.Infinite, cancellationToken);
        return watcher.WaitSync(milliseconds) != Waiter.TimedOutResult;
    }

    /// <summary>
    /// Waits asynchronously until a permit is available or <paramref name="timeout"/> passes, without taking the
    /// permit.
    /// </summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> only checks.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>
    /// <see langword="true"/> when a permit was available at some moment of the wait; <see langword="false"/> if the
    /// timeout passed first. Completes synchronously when a permit is available at once; otherwise asynchronously,
    /// never on the releasing thread, without allocating in steady state.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a permit is available.</exception>
    /// <remarks>The asynchronous form of <see cref="WaitAvailable(TimeSpan, CancellationToken)"/>; the same rules apply.</remarks>
    public ValueTask<bool> WaitAvailableAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (CurrentCount > 0)
        {
            return new ValueTask<bool>(true);
        }

        if (milliseconds == 0)
        {
            return new ValueTask<bool>(false);
        }

        var watcher = EnqueueWatcher(isSync: false);
        if (watcher is null)
        {
            return new ValueTask<bool>(true);
        }

        watcher.Arm(milliseconds, cancellationToken);
        return new ValueTask<bool>(watcher, watcher.Version);
    }

    /// <summary>Queues a watcher, or returns null when a permit became available meanwhile.</summary>
    private Waiter? EnqueueWatcher(bool isSync)
    {
        Waiter watcher;
        lock (_watchers.Sync)
        {
            watcher = _watchers.Enqueue(isSync);
        }

        // Pairs with the interlocked update in Release, which reads the watcher count after changing the count of
        // permits: either the releaser sees this watcher and wakes it, or this read sees the released permit.
        Interlocked.MemoryBarrier();
        if (CurrentCount == 0)
        {
            return watcher;
        }

        bool withdrawn;
        lock (_watchers.Sync)
        {
            withdrawn = watcher.IsQueued;
            if (withdrawn)
            {
                _watchers.Remove(watcher);
            }
        }

        if (!withdrawn)
        {
            // A release already woke it; its signal is set or on the way, so the wait returns at once.
            return watcher;
        }

        _watchers.Return(watcher);
        return null;
    }

    /// <summary>Wakes every watcher when permits are available. Called after each release, outside every lock.</summary>
    private void WakeWatchersIfAny()
    {
        if (_watchers.Count == 0 || CurrentCount == 0)
        {
            return;
        }

        var release = default(WaiterList);
        lock (_watchers.Sync)
        {
            _watchers.GrantMany(int.MaxValue, ref release);
        }

        release.SignalAll();
    }
}
