using System.Runtime.CompilerServices;
using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>
/// A non-reentrant mutual-exclusion lock with blocking and asynchronous acquisition, like Python's
/// <c>threading.Lock</c>. The lock has no owner: any holder may release it, so it can be held across
/// <see langword="await"/>. Waiters are served first-in, first-out.
/// </summary>
/// <remarks>
/// The uncontended <see cref="Acquire"/>, <see cref="AcquireAsync"/>, <see cref="TryAcquire()"/> and
/// <see cref="Release"/> are a single interlocked operation each and allocate nothing. Acquiring the lock again
/// while holding it blocks until another holder releases it.
/// </remarks>
public sealed class ExclusiveLock : IWaitQueueOwner, ILockReleaser
{
    /// <summary>Not held; no waiter is queued.</summary>
    private const int Free = 0;

    /// <summary>Held; no waiter is queued.</summary>
    private const int Held = 1;

    /// <summary>Held, with waiters queued: a release hands the lock to the oldest waiter.</summary>
    private const int HeldContended = 2;

    /// <summary>One of <see cref="Free"/>, <see cref="Held"/>, <see cref="HeldContended"/>; moves to and from <see cref="HeldContended"/> only under the queue's lock.</summary>
    private int _state;

    /// <summary>Callers waiting for the lock, oldest first.</summary>
    private readonly WaitQueue _waiters;

    /// <summary>Initializes a new, unlocked instance.</summary>
    public ExclusiveLock() => _waiters = new WaitQueue(this);

    /// <summary>Gets a value indicating whether the lock is held.</summary>
    public bool IsLocked => Volatile.Read(ref _state) != Free;

    /// <summary>Acquires the lock, blocking the calling thread until it is free.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public void Acquire(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TryAcquire())
        {
            AcquireSlow(Timeouts.Infinite, cancellationToken);
        }
    }

    /// <summary>Acquires the lock if it is free, without waiting.</summary>
    /// <returns><see langword="true"/> if the lock was acquired; <see langword="false"/> if it is held.</returns>
    public bool TryAcquire() => Interlocked.CompareExchange(ref _state, Held, Free) == Free;

    /// <summary>Acquires the lock, blocking the calling thread for at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns><see langword="true"/> if the lock was acquired; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
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

    /// <summary>Acquires the lock asynchronously, completing when it is acquired.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A task that completes when the lock is held by the caller; synchronously, without allocating, when the lock is free.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
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

    /// <summary>Acquires the lock asynchronously, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns><see langword="true"/> if the lock was acquired; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
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

    /// <summary>Releases the lock. Any holder may release it; the oldest waiter, if any, gets it next.</summary>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    public void Release()
    {
        if (Interlocked.CompareExchange(ref _state, Free, Held) != Held)
        {
            ReleaseSlow();
        }
    }

    /// <summary>Acquires the lock and returns a scope that releases it when disposed.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope holding the lock.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public Scope Lock(CancellationToken cancellationToken = default)
    {
        Acquire(cancellationToken);
        return new Scope(this);
    }

    /// <summary>Acquires the lock asynchronously and returns a scope that releases it when disposed.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope holding the lock.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public ValueTask<Scope> LockAsync(CancellationToken cancellationToken = default)
    {
        var acquire = AcquireAsync(cancellationToken);
        return acquire.IsCompletedSuccessfully ? new ValueTask<Scope>(new Scope(this)) : LockAsyncSlow(acquire);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Scope> LockAsyncSlow(ValueTask acquire)
    {
        await acquire.ConfigureAwait(false);
        return new Scope(this);
    }

    private bool AcquireSlow(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        // Spinning briefly is fair: the lock is only ever Free when no waiter is queued.
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

    /// <summary>Takes the lock if it became free, else queues a waiter and marks the lock contended.</summary>
    /// <returns>Null when the lock was acquired; otherwise the queued waiter.</returns>
    private Waiter? EnqueueOrAcquire(bool isSync)
    {
        lock (_waiters.Sync)
        {
            while (true)
            {
                var state = Volatile.Read(ref _state);
                if (state == Free)
                {
                    if (TryAcquire())
                    {
                        return null;
                    }
                }
                else if (state == HeldContended || Interlocked.CompareExchange(ref _state, HeldContended, Held) == Held)
                {
                    return _waiters.Enqueue(isSync);
                }
            }
        }
    }

    private void ReleaseSlow()
    {
        Waiter next;
        lock (_waiters.Sync)
        {
            var state = Volatile.Read(ref _state);
            if (state == Free)
            {
                throw new SynchronizationLockException("The lock cannot be released: it is not held.");
            }

            if (state == Held)
            {
                // The waiters that made it contended gave up between the fast path and here.
                Volatile.Write(ref _state, Free);
                return;
            }

            next = _waiters.Dequeue()!;
            Debug.Assert(next is not null, "A contended lock has queued waiters.");
            if (_waiters.Count == 0)
            {
                Volatile.Write(ref _state, Held);
            }

            // Ownership passes straight to the oldest waiter: the lock stays held, so nobody can barge in.
            next.Grant();
        }

        next.Signal();
    }

    Exception? IWaitQueueOwner.OnAbandoned(Waiter waiter, bool timedOut, ref WaiterList release)
    {
        if (_waiters.Count == 0 && Volatile.Read(ref _state) == HeldContended)
        {
            Volatile.Write(ref _state, Held);
        }

        return null;
    }
}
