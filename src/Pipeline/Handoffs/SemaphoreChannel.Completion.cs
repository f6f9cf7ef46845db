namespace Pipeline.Handoffs;

public sealed partial class SemaphoreChannel<T>
{
    private bool TryCompleteCore(Exception? error)
    {
        bool drained;
        BlockedWriter? rejected;
        using (EnterRing())
        {
            if (_doneWriting is not null)
            {
                return false;
            }

            _doneWriting = error ?? HandoffCompletion.DoneWritingSentinel;
            drained = _items.Count == 0;
            rejected = RejectBlockedWritersLocked();
        }

        WakeRejected(rejected);

        // Wakes every waiter, outside the ring's lock: each finds a permit available, then the handoff completed.
        _filledSlots.Release(CompletionReserve);
        _freeSlots.Release(CompletionReserve);
        SignalIfDrained(drained);
        return true;
    }

    private void SignalIfDrained(bool drained)
    {
        if (drained)
        {
            HandoffCompletion.SignalDrained(_completion, _doneWriting!);
        }
    }
}
