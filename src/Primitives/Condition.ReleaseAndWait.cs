using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

public sealed partial class Condition
{
    /// <summary>
    /// Releases the lock and blocks until notified or until <paramref name="timeout"/> passes, returning
    /// <em>without</em> the lock. The caller takes the lock again itself, when and how it chooses.
    /// </summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> releases the lock and returns <see langword="false"/>.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is released when the exception is thrown.</param>
    /// <returns><see langword="true"/> if notified; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>; the lock is then still held.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a notification arrives.</exception>
    /// <remarks>
    /// The waiter joins the queue before the lock is released, so a notifier (who must hold the lock) cannot miss it,
    /// and a notification is never lost to a wait that times out or is cancelled at the same moment. Unlike
    /// <see cref="Wait(TimeSpan, CancellationToken)"/>, no wait for the lock follows the notification, so a
    /// notified waiter never queues for the lock (and is never handed it while parked): it retakes the lock once
    /// running, for example with <see cref="ExclusiveLock.AcquireBarging"/>, and checks its predicate again.
    /// On a <see cref="ReentrantLock"/> every level of the calling thread's hold is released.
    /// </remarks>
    public bool ReleaseAndWait(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        ThrowIfLockNotHeld("wait on");
        if (milliseconds == 0 || cancellationToken.IsCancellationRequested)
        {
            ReleaseLockForWait();
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }

        Waiter waiter;
        lock (_waiters.Sync)
        {
            waiter = _waiters.Enqueue(isSync: true);
        }

        ReleaseLockForWait();
        waiter.Arm(Timeouts.Infinite, cancellationToken);
        return waiter.WaitSync(milliseconds) != Waiter.TimedOutResult;
    }

    /// <summary>
    /// Releases the lock and waits asynchronously until notified or until <paramref name="timeout"/> passes,
    /// completing <em>without</em> the lock. The caller takes the lock again itself.
    /// </summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> releases the lock and returns <see langword="false"/>.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is released when the exception is thrown.</param>
    /// <returns><see langword="true"/> if notified; <see langword="false"/> if the timeout passed first. Completes asynchronously (never on the notifier's thread) once the wait had to suspend; allocates nothing in steady state.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>; the lock is then still held.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a notification arrives.</exception>
    /// <remarks>
    /// The asynchronous form of <see cref="ReleaseAndWait(TimeSpan, CancellationToken)"/>: a notified continuation
    /// never holds, nor queues for, the lock, so no caller of the lock ever waits for a continuation that the thread
    /// pool has not run yet.
    /// </remarks>
    public ValueTask<bool> ReleaseAndWaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        var exclusiveLock = ExclusiveLockForAsync();
        ThrowIfLockNotHeld("wait on");
        if (cancellationToken.IsCancellationRequested)
        {
            exclusiveLock.Release();
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (milliseconds == 0)
        {
            exclusiveLock.Release();
            return new ValueTask<bool>(false);
        }

        Waiter waiter;
        lock (_waiters.Sync)
        {
            waiter = _waiters.Enqueue(isSync: false);
        }

        exclusiveLock.Release();
        waiter.Arm(milliseconds, cancellationToken);
        return new ValueTask<bool>(waiter, waiter.Version);
    }
}
