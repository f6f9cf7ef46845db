using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Pipeline.Handoffs;

public sealed partial class ConditionChannel<T>
{
    /// <inheritdoc/>
    public void Write(T item, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        WriteBlocking(item, Timeout.InfiniteTimeSpan, cancellationToken);
    }

    /// <inheritdoc/>
    public bool TryWrite(T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        HandoffArguments.ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        return WriteBlocking(item, timeout, cancellationToken);
    }

    /// <inheritdoc/>
    public T Read(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ReadBlocking(out T? item, Timeout.InfiniteTimeSpan, cancellationToken);
        return item!;
    }

    /// <inheritdoc/>
    public bool TryRead([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        HandoffArguments.ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        return ReadBlocking(out item, timeout, cancellationToken);
    }

    private bool WriteBlocking(T item, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        EnterLock();
        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            _lock.Release();
            throw HandoffCompletion.CreateClosedException(doneWriting);
        }

        if (TryEnqueueLocked(item, out T? dropped, out bool hasDropped))
        {
            _lock.Release();
            ReportDropped(hasDropped, dropped);
            return true;
        }

        // The ring is full (Wait mode): park the item for the reader that frees a slot, and wait until it is moved.
        BlockedWriter record = ParkWriterLocked(item);
        while (true)
        {
            bool notified;
            try
            {
                notified = _notFull.ReleaseAndWait(HandoffArguments.Remaining(started, timeout), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                EnterLock();
                bool delivered = ReclaimWriterLocked(record);
                _lock.Release();
                if (delivered)
                {
                    return true;
                }

                throw;
            }

            EnterLock();
            if (!notified)
            {
                // Timed out: the write happened only if a reader moved the item before this point.
                bool delivered = ReclaimWriterLocked(record);
                _lock.Release();
                return delivered;
            }

            if (TryFinishBlockedWriteLocked(item, ref record))
            {
                return true;
            }
        }
    }

    private bool ReadBlocking([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        while (true)
        {
            EnterLock();
            if (TryDequeueLocked(out item, out bool drained))
            {
                _lock.Release();
                SignalIfDrained(drained);
                return true;
            }

            Exception? doneWriting = _doneWriting;
            if (doneWriting is not null)
            {
                _lock.Release();
                throw HandoffCompletion.CreateClosedException(doneWriting);
            }

            if (!_notEmpty.ReleaseAndWait(HandoffArguments.Remaining(started, timeout), cancellationToken))
            {
                item = default;
                return false;
            }
        }
    }
}
