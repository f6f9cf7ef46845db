using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>
/// A counting semaphore with blocking and asynchronous acquisition, like Python's <c>threading.Semaphore</c>:
/// <c>Acquire</c> takes a permit, waiting while none is left; <see cref="Release"/> returns permits. Waiters are
/// served first-in, first-out, and a released permit goes to the oldest waiter before anyone else.
/// </summary>
/// <remarks>
/// The count is not bounded (up to <see cref="int.MaxValue"/>): releasing without acquiring raises it. Use
/// <see cref="BoundedSemaphore"/> to catch over-release. The uncontended paths are one interlocked operation
/// and allocate nothing.
/// </remarks>
public partial class CountingSemaphore : IWaitQueueOwner
{
    /// <summary>The state when no permit is left and waiters are queued.</summary>
    private const int Contended = -1;

    /// <summary>The number of free permits when &gt;= 0 (then no waiter is queued); <see cref="Contended"/> when waiters are queued. Leaves <see cref="Contended"/> only under the queue's lock.</summary>
    private int _state;

    /// <summary>The most permits the semaphore may hold; <see cref="int.MaxValue"/> for an unbounded one.</summary>
    private readonly int _maxCount;

    /// <summary>Callers waiting for a permit, oldest first.</summary>
    private readonly WaitQueue _waiters;

    /// <summary>Initializes a new instance with <paramref name="initialCount"/> free permits.</summary>
    /// <param name="initialCount">The number of free permits; at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="initialCount"/> is negative.</exception>
    public CountingSemaphore(int initialCount = 1)
        : this(initialCount, int.MaxValue)
    {
    }

    /// <summary>Initializes a new instance with a bound on the permits it may hold.</summary>
    private protected CountingSemaphore(int initialCount, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        if (initialCount > maxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(initialCount), initialCount,
                $"initialCount must be between 0 and maxCount ({maxCount}), was {initialCount}.");
        }

        _state = initialCount;
        _maxCount = maxCount;
        _waiters = new WaitQueue(this);
    }

    /// <summary>Gets the number of free permits.</summary>
    public int CurrentCount => Math.Max(Volatile.Read(ref _state), 0);

    /// <summary>Gets how many callers wait on the semaphore: for a permit, or until one is available (<see cref="WaitAvailable"/>).</summary>
    /// <value>The number of queued waiters, 0 or more. A waiter that was granted its permit or woken no longer counts, even before it runs.</value>
    /// <remarks>Read without any lock, as a hint: for example, to tell whether anyone would be woken by the next release.</remarks>
    public int WaitingCount => _waiters.Count + _watchers.Count;

    /// <summary>Gets the bound on free permits, <see cref="int.MaxValue"/> for an unbounded semaphore.</summary>
    private protected int Bound => _maxCount;

    /// <summary>Takes a permit, blocking the calling thread until one is free.</summary>
    /// <param name="cancellationToken">Cancels the wait; no permit is then taken.</param>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a permit is taken.</exception>
    public void Acquire(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TryAcquire())
        {
            AcquireSlow(Timeouts.Infinite, cancellationToken);
        }
    }

    /// <summary>Takes a permit asynchronously, completing when one is taken.</summary>
    /// <param name="cancellationToken">Cancels the wait; no permit is then taken.</param>
    /// <returns>A task that completes when the caller holds a permit; synchronously, without allocating, when one is free.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a permit is taken.</exception>
    public ValueTask AcquireAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (TryAcquire())
        {
            return default;
        }

        var waiter = EnqueueOrAcquire(isSync: false);
        if (waiter is null)
        {
            return default;
        }

        waiter.Arm(Timeouts.Infinite, cancellationToken);
        return new ValueTask(waiter, waiter.Version);
    }

    /// <summary>Takes a permit if one is free, without waiting.</summary>
    /// <returns><see langword="true"/> if a permit was taken.</returns>
    public bool TryAcquire()
    {
        var state = Volatile.Read(ref _state);
        while (state > 0)
        {
            var observed = Interlocked.CompareExchange(ref _state, state - 1, state);
            if (observed == state)
            {
                return true;
            }

            state = observed;
        }

        return false;
    }

    /// <summary>Takes a permit, blocking the calling thread for at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; no permit is then taken.</param>
    /// <returns><see langword="true"/> if a permit was taken; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a permit is taken.</exception>
    public bool TryAcquire(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        cancellationToken.ThrowIfCancellationRequested();
        if (TryAcquire())
        {
            return true;
        }

        return milliseconds != 0 && AcquireSlow(milliseconds, cancellationToken);
    }

    /// <summary>Takes a permit asynchronously, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; no permit is then taken.</param>
    /// <returns><see langword="true"/> if a permit was taken; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a permit is taken.</exception>
    public ValueTask<bool> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (TryAcquire())
        {
            return new ValueTask<bool>(true);
        }

        if (milliseconds == 0)
        {
            return new ValueTask<bool>(false);
        }

        var waiter = EnqueueOrAcquire(isSync: false);
        if (waiter is null)
        {
            return new ValueTask<bool>(true);
        }

        waiter.Arm(milliseconds, cancellationToken);
        return new ValueTask<bool>(waiter, waiter.Version);
    }

    /// <summary>Returns <paramref name="count"/> permits, waking up to that many waiters, oldest first.</summary>
    /// <param name="count">The number of permits; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="count"/> is less than 1.</exception>
    /// <exception cref="SemaphoreFullException">Thrown when the release would raise the count above the semaphore's maximum (<see cref="int.MaxValue"/>, or <see cref="BoundedSemaphore.MaxCount"/>); the count is then unchanged.</exception>
    public void Release(int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var state = Volatile.Read(ref _state);
        while (state >= 0)
        {
            ThrowIfPastBound(state, count);
            var observed = Interlocked.CompareExchange(ref _state, state + count, state);
            if (observed == state)
            {
                WakeWatchersIfAny();
                return;
            }

            state = observed;
        }

        ReleaseSlow(count);
        WakeWatchersIfAny();
    }

    private void ReleaseSlow(int count)
    {
        var release = default(WaiterList);
        lock (_waiters.Sync)
        {
            var state = Volatile.Read(ref _state);
            while (state >= 0)
            {
                // The waiters gave up meanwhile: an ordinary release.
                ThrowIfPastBound(state, count);
                var observed = Interlocked.CompareExchange(ref _state, state + count, state);
                if (observed == state)
                {
                    return;
                }

                state = observed;
            }

            ThrowIfPastBound(0, count);
            var granted = _waiters.GrantMany(count, ref release);
            if (_waiters.Count == 0)
            {
                Volatile.Write(ref _state, count - granted);
            }
        }

        release.SignalAll();
    }

    private void ThrowIfPastBound(int state, int count)
    {
        if (count > _maxCount - state)
        {
            throw new SemaphoreFullException(_maxCount == int.MaxValue
                ? $"Releasing {count} permits would overflow the count of {state}."
                : $"Releasing {count} permits would raise the count of {state} above the maximum of {_maxCount}; the count is unchanged.");
        }
    }

    private bool AcquireSlow(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        // Spinning briefly is fair: permits are only ever free when no waiter is queued.
        var spinner = default(SpinWait);
        while (!spinner.NextSpinWillYield)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            if (TryAcquire())
            {
                return true;
            }
        }

        var waiter = EnqueueOrAcquire(isSync: true);
        if (waiter is null)
        {
            return true;
        }

        waiter.Arm(Timeouts.Infinite, cancellationToken);
        return waiter.WaitSync(timeoutMilliseconds) != Waiter.TimedOutResult;
    }

    /// <summary>Takes a permit if one became free, else queues a waiter and marks the semaphore contended.</summary>
    private Waiter? EnqueueOrAcquire(bool isSync)
    {
        lock (_waiters.Sync)
        {
            while (true)
            {
                var state = Volatile.Read(ref _state);
                if (state > 0)
                {
                    if (Interlocked.CompareExchange(ref _state, state - 1, state) == state)
                    {
                        return null;
                    }
                }
                else if (state == Contended || Interlocked.CompareExchange(ref _state, Contended, 0) == 0)
                {
                    return _waiters.Enqueue(isSync);
                }
            }
        }
    }

    Exception? IWaitQueueOwner.OnAbandoned(Waiter waiter, bool timedOut, ref WaiterList release)
    {
        if (_waiters.Count == 0 && Volatile.Read(ref _state) == Contended)
        {
            Volatile.Write(ref _state, 0);
        }

        return null;
    }
}
