using Pipeline.Primitives;

namespace Pipeline.Handoffs;

/// <summary>How the custom handoffs take the <see cref="ExclusiveLock"/> that guards their ring for a short critical section.</summary>
internal static class HandoffLock
{
    /// <summary>How many rounds of <see cref="SpinWait"/> a caller spins (and yields) for the lock before it parks.</summary>
    private const int SpinLimit = 30;

    /// <summary>
    /// Takes <paramref name="ringLock"/>. Every holder is running (the lock is never handed to a parked caller: the park
    /// is <see cref="ExclusiveLock.AcquireBarging"/>), so a caller spins, yielding its core now and then, for as long as
    /// a few critical sections take before parking: a parked caller makes every later release take the lock's slow path
    /// to wake it, and once woken it competes again with running callers, which turns contention into a convoy of
    /// wake-ups.
    /// </summary>
    /// <param name="ringLock">The handoff's lock.</param>
    public static void Enter(ExclusiveLock ringLock)
    {
        if (ringLock.TryAcquire())
        {
            return;
        }

        SpinWait spinner = default;
        while (spinner.Count < SpinLimit)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            if (ringLock.TryAcquire())
            {
                return;
            }
        }

        ringLock.AcquireBarging();
    }
}
