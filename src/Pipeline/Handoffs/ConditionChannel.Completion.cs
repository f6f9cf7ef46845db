namespace Pipeline.Handoffs;

public sealed partial class ConditionChannel<T>
{
    private bool TryCompleteCore(Exception? error)
    {
        EnterLock();
        if (_doneWriting is not null)
        {
            _lock.Release();
            return false;
        }

        _doneWriting = error ?? HandoffCompletion.DoneWritingSentinel;
        _notEmpty.NotifyAllOnRelease();
        _notFull.NotifyAllOnRelease();
        _writable.NotifyAllOnRelease();
        bool drained = _items.Count == 0;
        _lock.Release();
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
