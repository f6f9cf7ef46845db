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
/// <para>
/// Queued waiters are served in FIFO order and keep their place in line. A release frees the lock and wakes the
/// oldest waiter rather than handing it the lock, so a caller that is already running may take the lock first
/// instead of waiting for a woken thread or continuation to be scheduled (handing over on every release turns
/// contention into a convoy). Once the oldest waiter has waited a millisecond, releases hand the lock straight
/// to it, so nobody starves. <see cref="AcquireBarging"/> waits without that hand-over, for locks that guard short
/// critical sections which non-blocking callers also enter.
/// </para>
/// </remarks>
public sealed partial class ExclusiveLock : IWaitQueueOwner, ILockReleaser
{
    /// <summary>Not held; no waiter is queued.</summary>
    private const int Free = 0;

    /// <summary>Held; no waiter is queued.</summary>
    private const int Held = 1;

    /// <summary>Held, with waiters queued: a release wakes the oldest waiter.</summary>
    private const int HeldContended = 2;

    /// <summary>Not held, with waiters queued: the oldest waiter was woken and is on its way to take the lock.</summary>
    private const int FreeContended = 3;

    /// <summary>Result of a wait that was handed the lock.</summary>
    private const int HandedOver = 0;

    /// <summary>Result of a wait that was woken to race for the freed lock.</summary>
    private const int WokenToRetry = 1;

    /// <summary>
    /// How long the oldest waiter may be overtaken by running callers before a release hands the lock straight to
    /// it, in <see cref="Stopwatch"/> ticks (one millisecond).
    /// </summary>
    private static readonly long s_handOverAfterTicks = Stopwatch.Frequency / 1000;

    /// <summary>
    /// One of <see cref="Free"/>, <see cref="Held"/>, <see cref="HeldContended"/>, <see cref="FreeContended"/>. The
    /// contended states are entered and left only under the queue's lock, except that a caller may take a
    /// <see cref="FreeContended"/> lock (to <see cref="HeldContended"/>) without it.
    /// </summary>
    private int _state;

    /// <summary>Callers waiting for the lock, oldest first.</summary>
    private readonly WaitQueue _waiters;

    /// <summary>Initializes a new, unlocked instance.</summary>
    public ExclusiveLock() => _waiters = new WaitQueue(this);

    /// <summary>Gets a value indicating whether the lock is held.</summary>
    public bool IsLocked => Volatile.Read(ref _state) is Held or HeldContended;

    /// <summary>Acquires the lock, blocking the calling thread until it is free.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public void Acquire(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TryAcquire())
        {
            AcquireSlow(Timeouts.Infinite, neverHandOver: false, cancellationToken);
        }
    }

    /// <summary>Acquires the lock if it is free, without waiting.</summary>
    /// <returns><see langword="true"/> if the lock was acquired; <see langword="false"/> if it is held.</returns>
    public bool TryAcquire() =>
        Interlocked.CompareExchange(ref _state, Held, Free) == Free || TryAcquireContended();

    /// <summary>Takes a lock that is free while waiters are queued (a woken waiter has not taken it yet).</summary>
    private bool TryAcquireContended()
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state == Free)
            {
                if (Interlocked.CompareExchange(ref _state, Held, Free) == Free)
                {
                    return true;
                }
            }
            else if (state == FreeContended)
            {
                if (Interlocked.CompareExchange(ref _state, HeldContended, FreeContended) == FreeContended)
                {
                    return true;
                }
            }
            else
            {
                return false;
            }
        }
    }

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

        return milliseconds != 0 && AcquireSlow(milliseconds, neverHandOver: false, cancellationToken);
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

        return AcquireAsyncCore(cancellationToken);
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

        return AcquireAsyncCore(milliseconds, cancellationToken);
    }

    /// <summary>Releases the lock. Any holder may release it; the oldest waiter, if any, gets it next.</summary>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    public void Release()
    {
        if (!_signalOnRelease.IsEmpty)
        {
            ReleaseAndSignal();
        }
        else if (Interlocked.CompareExchange(ref _state, Free, Held) != Held)
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

    private bool AcquireSlow(long timeoutMilliseconds, bool neverHandOver, CancellationToken cancellationToken)
    {
        var deadline = Timeouts.Deadline(timeoutMilliseconds);
        var queuedSince = 0L;
        while (true)
        {
            // Spinning briefly before queueing is fair: queued waiters are woken, not bypassed, and keep their place.
            if (SpinToAcquire())
            {
                return true;
            }

            var waiter = EnqueueOrAcquire(isSync: true, ref queuedSince, neverHandOver);
            if (waiter is null)
            {
                return true;
            }

            waiter.Arm(Timeouts.Infinite, cancellationToken);
            var result = waiter.WaitSync(Timeouts.Remaining(deadline));
            if (result == HandedOver)
            {
                return true;
            }

            if (result == Waiter.TimedOutResult)
            {
                return false;
            }

            // Woken to race for the lock: a running caller took it first. Back to the head of the line.
            if (TryAcquire())
            {
                return true;
            }

            if (Timeouts.Remaining(deadline) == 0)
            {
                return false;
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private bool SpinToAcquire()
    {
        var spinner = default(SpinWait);
        while (!spinner.NextSpinWillYield)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            if (TryAcquire())
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Takes the lock if it became free, else queues a waiter and marks the lock contended. A caller that queued
    /// before (<paramref name="queuedSince"/> is not 0) goes back to the head of the line.
    /// </summary>
    /// <returns>Null when the lock was acquired; otherwise the queued waiter.</returns>
    private Waiter? EnqueueOrAcquire(bool isSync, ref long queuedSince, bool neverHandOver)
    {
        lock (_waiters.Sync)
        {
            while (true)
            {
                var state = Volatile.Read(ref _state);
                if (state is Free or FreeContended)
                {
                    if (TryAcquireContended())
                    {
                        return null;
                    }
                }
                else if (state == HeldContended || Interlocked.CompareExchange(ref _state, HeldContended, Held) == Held)
                {
                    var waiter = _waiters.Enqueue(isSync, atHead: queuedSince != 0, queuedSince);
                    waiter.NeverHandOver = neverHandOver;
                    queuedSince = waiter.QueuedSince;
                    return waiter;
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
            if (state is Free or FreeContended)
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
            var waitersLeft = _waiters.Count != 0;
            if (!next.NeverHandOver && QueueClock.Now() - next.QueuedSince >= s_handOverAfterTicks)
            {
                // The oldest waiter has been overtaken long enough: the lock stays held and passes to it.
                Volatile.Write(ref _state, waitersLeft ? HeldContended : Held);
                next.Grant(HandedOver);
            }
            else
            {
                // Free the lock and wake the oldest waiter to take it; a running caller may get there first.
                Volatile.Write(ref _state, waitersLeft ? FreeContended : Free);
                next.Grant(WokenToRetry);
            }
        }

        next.Signal();
    }

    Exception? IWaitQueueOwner.OnAbandoned(Waiter waiter, bool timedOut, ref WaiterList release)
    {
        if (_waiters.Count == 0)
        {
            // Only the holder, or a caller taking a free lock, changes the state outside the lock.
            var state = Volatile.Read(ref _state);
            while (state is HeldContended or FreeContended)
            {
                var observed = Interlocked.CompareExchange(ref _state, state == HeldContended ? Held : Free, state);
                if (observed == state)
                {
                    break;
                }

                state = observed;
            }
        }

        return null;
    }
}
