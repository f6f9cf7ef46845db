using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

public sealed partial class ExclusiveLock
{
    /// <summary>
    /// Waiters whose outcome a holder has decided (<see cref="Condition.NotifyOnRelease"/>) and that the next
    /// <see cref="Release"/> signals once the lock is free. Guarded by the lock itself: only a holder touches it.
    /// </summary>
    private WaiterList _signalOnRelease;

    /// <summary>
    /// Adds decided waiters to be signalled by the next release, after the lock is freed. Call only while holding
    /// the lock.
    /// </summary>
    internal void SignalOnRelease(ref WaiterList waiters)
    {
        Debug.Assert(IsLocked, "Only a holder defers signals to its release.");
        _signalOnRelease.Append(ref waiters);
    }

    /// <summary>
    /// Releases the lock, then signals the waiters a holder deferred to this release: a woken waiter never finds
    /// the lock still held by its notifier, and the notifier's critical section does not include waking anyone.
    /// </summary>
    private void ReleaseAndSignal()
    {
        // Taken before the lock is freed: the next holder may defer signals of its own at once.
        var pending = _signalOnRelease;
        _signalOnRelease = default;
        if (Interlocked.CompareExchange(ref _state, Free, Held) != Held)
        {
            ReleaseSlow();
        }

        pending.SignalAll();
    }
}
