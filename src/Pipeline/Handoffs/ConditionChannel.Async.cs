using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Pipeline.Handoffs;

public sealed partial class ConditionChannel<T>
{
    private bool TryWriteCore(T item)
    {
        if (_doneWriting is not null)
        {
            return false;
        }

        EnterLock();
        if (_doneWriting is not null)
        {
            _lock.Release();
            return false;
        }

        bool written = TryEnqueueLocked(item, out T? dropped, out bool hasDropped);
        _lock.Release();
        ReportDropped(hasDropped, dropped);
        return written;
    }

    private ValueTask WriteAsyncCore(T item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_fullMode == BoundedChannelFullMode.Wait && _items.IsFull)
        {
            SpinForRoom();
        }

        EnterLock();
        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            _lock.Release();
            return HandoffCompletion.Closed(doneWriting);
        }

        if (TryEnqueueLocked(item, out T? dropped, out bool hasDropped))
        {
            _lock.Release();
            ReportDropped(hasDropped, dropped);
            return default;
        }

        return WriteAsyncSlow(item, ParkWriterLocked(item), cancellationToken);
    }

    /// <summary>
    /// Waits, with <paramref name="item"/> parked in <paramref name="record"/>, until a reader moved it into the ring or
    /// the handoff is completed; the lock is never held across an await. Whether the item was delivered is decided
    /// under the lock, so a cancelled write either delivered its item (and completes) or did not (and throws).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsyncSlow(T item, BlockedWriter record, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await _notFull.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                EnterLock();
                bool delivered = ReclaimWriterLocked(record);
                _lock.Release();
                if (delivered)
                {
                    return;
                }

                throw;
            }

            // A reader sets Delivered under the lock, as its last touch of the record, before it notifies; only the
            // owner touches the record after: a delivered write is done without the lock.
            if (Volatile.Read(ref record.Delivered))
            {
                ReturnDeliveredRecord(record);
                return;
            }

            EnterLock();
            if (TryFinishBlockedWriteLocked(item, ref record))
            {
                return;
            }
        }
    }

    /// <summary>
    /// With the lock held, after a blocked writer was notified: finishes the write (releasing the lock) when its item
    /// was delivered, the ring has room, or the handoff is completed (then throws); otherwise parks the item again, at
    /// the back, keeping the lock for the caller's next wait.
    /// </summary>
    /// <exception cref="ChannelClosedException">Thrown, with the lock released, when the handoff was completed before the item was delivered.</exception>
    private bool TryFinishBlockedWriteLocked(T item, ref BlockedWriter record)
    {
        if (ReclaimWriterLocked(record))
        {
            _lock.Release();
            return true;
        }

        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            _lock.Release();
            throw HandoffCompletion.CreateClosedException(doneWriting);
        }

        if (!_items.IsFull)
        {
            TryEnqueueLocked(item, out _, out _);
            _lock.Release();
            return true;
        }

        // Notified for a writer that had stopped waiting: rejoin at the back, so the oldest parked item stays the
        // oldest waiter's.
        record = ParkWriterLocked(item);
        return false;
    }

    private ValueTask<bool> WaitToWriteAsyncCore(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            return HandoffCompletion.WaitClosed(doneWriting);
        }

        if (_fullMode != BoundedChannelFullMode.Wait || !_items.IsFull)
        {
            return new ValueTask<bool>(true);
        }

        EnterLock();
        return WaitToWriteAsyncLocked(woken: false, cancellationToken);
    }

    /// <summary>Answers with the lock held (and releases it), or releases it to wait for room and answers later.</summary>
    private ValueTask<bool> WaitToWriteAsyncLocked(bool woken, CancellationToken cancellationToken)
    {
        if (TryAnswerWaitToWriteLocked(woken, out ValueTask<bool> answer))
        {
            return answer;
        }

        return WaitToWriteAsyncSlow(_writable.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellationToken), cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToWriteAsyncSlow(ValueTask<bool> wait, CancellationToken cancellationToken)
    {
        while (true)
        {
            await wait.ConfigureAwait(false);
            EnterLock();
            if (TryAnswerWaitToWriteLocked(woken: true, out ValueTask<bool> answer))
            {
                return await answer.ConfigureAwait(false);
            }

            wait = _writable.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellationToken);
        }
    }

    /// <summary>With the lock held: answers (releasing the lock) when there is room or the handoff is completed.</summary>
    private bool TryAnswerWaitToWriteLocked(bool woken, out ValueTask<bool> answer)
    {
        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            _lock.Release();
            answer = HandoffCompletion.WaitClosed(doneWriting);
            return true;
        }

        if (!_items.IsFull)
        {
            if (woken)
            {
                // This waiter took a notification that another may need; its caller may not write at all.
                _writable.NotifyOnRelease();
            }

            _lock.Release();
            answer = new ValueTask<bool>(true);
            return true;
        }

        answer = default;
        return false;
    }

    private bool TryReadCore([MaybeNullWhen(false)] out T item)
    {
        if (_items.Count == 0)
        {
            item = default;
            return false;
        }

        EnterLock();
        bool taken = TryDequeueLocked(out item, out bool drained);
        _lock.Release();
        SignalIfDrained(drained);
        return taken;
    }

    private ValueTask<T> ReadAsyncCore(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (_items.Count == 0)
        {
            SpinForItem();
        }

        EnterLock();
        if (TryDequeueLocked(out T? item, out bool drained))
        {
            _lock.Release();
            SignalIfDrained(drained);
            return new ValueTask<T>(item);
        }

        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            _lock.Release();
            return HandoffCompletion.Closed<T>(doneWriting);
        }

        return ReadAsyncSlow(_notEmpty.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellationToken), cancellationToken);
    }

    /// <summary>Waits for an item, then retries under the lock; the lock is never held across an await.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ReadAsyncSlow(ValueTask<bool> wait, CancellationToken cancellationToken)
    {
        while (true)
        {
            await wait.ConfigureAwait(false);
            EnterLock();
            if (TryDequeueLocked(out T? item, out bool drained))
            {
                _lock.Release();
                SignalIfDrained(drained);
                return item;
            }

            Exception? doneWriting = _doneWriting;
            if (doneWriting is not null)
            {
                _lock.Release();
                throw HandoffCompletion.CreateClosedException(doneWriting);
            }

            wait = _notEmpty.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellationToken);
        }
    }

    private ValueTask<bool> WaitToReadAsyncCore(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (_items.Count > 0 || (SpinForItem() && _items.Count > 0))
        {
            return new ValueTask<bool>(true);
        }

        EnterLock();
        return WaitToReadAsyncLocked(woken: false, cancellationToken);
    }

    /// <summary>Answers with the lock held (and releases it), or releases it to wait for an item and answers later.</summary>
    private ValueTask<bool> WaitToReadAsyncLocked(bool woken, CancellationToken cancellationToken)
    {
        if (TryAnswerWaitToReadLocked(woken, out ValueTask<bool> answer))
        {
            return answer;
        }

        return WaitToReadAsyncSlow(_notEmpty.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellationToken), cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToReadAsyncSlow(ValueTask<bool> wait, CancellationToken cancellationToken)
    {
        while (true)
        {
            await wait.ConfigureAwait(false);

            // Notified for an item: with it still there and no other reader waiting to be passed the notification on,
            // the answer needs no lock (readers join the condition only under the lock, after finding the ring empty).
            if (_items.Count > 0 && _notEmpty.WaitingCount == 0)
            {
                return true;
            }

            EnterLock();
            if (TryAnswerWaitToReadLocked(woken: true, out ValueTask<bool> answer))
            {
                return await answer.ConfigureAwait(false);
            }

            wait = _notEmpty.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellationToken);
        }
    }

    /// <summary>With the lock held: answers (releasing the lock) when an item is there or the handoff is completed.</summary>
    private bool TryAnswerWaitToReadLocked(bool woken, out ValueTask<bool> answer)
    {
        if (_items.Count > 0)
        {
            if (woken)
            {
                // This waiter took a notification that a reader may need; its caller may not read at all.
                _notEmpty.NotifyOnRelease();
            }

            _lock.Release();
            answer = new ValueTask<bool>(true);
            return true;
        }

        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            _lock.Release();
            answer = HandoffCompletion.WaitClosed(doneWriting);
            return true;
        }

        answer = default;
        return false;
    }

    private bool TryPeekCore([MaybeNullWhen(false)] out T item)
    {
        if (_items.Count == 0)
        {
            item = default;
            return false;
        }

        EnterLock();
        bool found = _items.Count > 0;
        item = found ? _items.PeekOldest() : default;
        _lock.Release();
        return found;
    }
}
