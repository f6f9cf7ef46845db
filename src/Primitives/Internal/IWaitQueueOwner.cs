namespace Pipeline.Primitives.Internal;

/// <summary>A primitive whose state depends on its queued waiters, told when one of them gives up.</summary>
internal interface IWaitQueueOwner
{
    /// <summary>
    /// Called with <see cref="WaitQueue.Sync"/> held, right after <paramref name="waiter"/> left the queue because
    /// it timed out or was cancelled. Restores the owner's invariants (e.g. "a contended flag means waiters are
    /// queued") and may move other waiters into <paramref name="release"/>, with their outcome set, to be signalled
    /// once the lock is released.
    /// </summary>
    /// <returns>The exception the abandoning waiter ends with instead of the default (false on timeout,
    /// <see cref="OperationCanceledException"/> on cancellation), or <see langword="null"/> for the default.</returns>
    Exception? OnAbandoned(Waiter waiter, bool timedOut, ref WaiterList release);
}
