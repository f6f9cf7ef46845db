using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

public sealed partial class Condition
{
    /// <summary>Gets how many callers wait on the condition; a snapshot, exact only while the lock is held.</summary>
    /// <value>The number of queued waiters, 0 or more. A notified waiter no longer counts, even before it runs.</value>
    /// <remarks>
    /// Waiters join while holding the lock, so a holder that reads 0 knows nobody is left to notify; read without the
    /// lock it is a hint, for example to skip taking the lock when no waiter could need a notification.
    /// </remarks>
    public int WaitingCount => _waiters.Count;

    /// <summary>
    /// Chooses up to <paramref name="count"/> waiters, oldest first, and wakes them when the caller releases the lock.
    /// Does nothing when none waits.
    /// </summary>
    /// <param name="count">How many waiters to wake; 0 wakes none.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="count"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <remarks>
    /// The waiters are taken out of the queue now, under the lock, exactly as <see cref="Notify"/> takes them: a
    /// waiter that times out or is cancelled afterwards still counts as notified, and one that joins later is not
    /// among them. Only waking them is left to <see cref="ExclusiveLock.Release"/> of the condition's lock, which
    /// frees the lock first: so a woken waiter never finds the lock still held by its notifier, and the notifier's
    /// critical section does not include waking threads or queueing continuations. Whoever releases the lock next
    /// (the lock has no owner) wakes them.
    /// </remarks>
    public void NotifyOnRelease(int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var exclusiveLock = _exclusiveLock ?? throw new InvalidOperationException(
            "NotifyOnRelease needs a condition built on an ExclusiveLock: a ReentrantLock's release cannot wake deferred waiters.");
        ThrowIfLockNotHeld("notify");

        // Waiters join the queue while holding the lock, as the caller does now: a zero count is exact.
        if (count == 0 || _waiters.Count == 0)
        {
            return;
        }

        var release = default(WaiterList);
        lock (_waiters.Sync)
        {
            _waiters.GrantMany(count, ref release);
        }

        exclusiveLock.SignalOnRelease(ref release);
    }

    /// <summary>Chooses every waiter and wakes them when the caller releases the lock.</summary>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <remarks>See <see cref="NotifyOnRelease"/>.</remarks>
    public void NotifyAllOnRelease() => NotifyOnRelease(int.MaxValue);
}
