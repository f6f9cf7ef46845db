using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Pipeline.Handoffs;

public sealed partial class SemaphoreChannel<T>
{
    private bool TryWriteCore(T item)
    {
        if (_doneWriting is not null)
        {
            return false;
        }

        if (_fullMode != BoundedChannelFullMode.Wait)
        {
            return WriteDropping(item);
        }

        return TryWriteInRing(item) == RingWrite.Written;
    }

    private ValueTask WriteAsyncCore(T item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Exception? doneWriting = _doneWriting;
        if (doneWriting is null)
        {
            if (_fullMode != BoundedChannelFullMode.Wait)
            {
                if (WriteDropping(item))
                {
                    return default;
                }
            }
            else
            {
                RingWrite result = TryWriteInRing(item);
                if (result == RingWrite.Full && SpinForRoom())
                {
                    result = TryWriteInRing(item);
                }

                if (result == RingWrite.Written)
                {
                    return default;
                }

                if (result == RingWrite.Full)
                {
                    return WriteAsyncSlow(item, cancellationToken);
                }
            }

            doneWriting = _doneWriting!;
        }

        return HandoffCompletion.Closed(doneWriting);
    }

    /// <summary>
    /// Writes in <see cref="BoundedChannelFullMode.Wait"/> mode once the fast path found no free slot: takes one under
    /// the ring's lock or parks the item, which the reader that frees the next slot moves into the ring.
    /// </summary>
    private ValueTask WriteAsyncSlow(T item, CancellationToken cancellationToken)
    {
        BlockedWriter? record;
        try
        {
            record = EnqueueOrPark(item);
        }
        catch (Exception error) when (error is ChannelClosedException or OperationCanceledException)
        {
            // Completed since the caller looked (with an OperationCanceledException, that is what ThrowIfDoneWriting throws).
            return HandoffCompletion.Closed(_doneWriting!);
        }

        return record is null ? default : WaitDeliveredAsync(record, cancellationToken);
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

        if (_fullMode != BoundedChannelFullMode.Wait || _freeSlots.CurrentCount > 0)
        {
            // A free slot seen may be one of the reserve that completion releases after publishing _doneWriting.
            doneWriting = _doneWriting;
            return doneWriting is null ? new ValueTask<bool>(true) : HandoffCompletion.WaitClosed(doneWriting);
        }

        return WaitToWriteAsyncSlow(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToWriteAsyncSlow(CancellationToken cancellationToken)
    {
        await _freeSlots.WaitAvailableAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        Exception? doneWriting = _doneWriting;
        return doneWriting is null || await HandoffCompletion.WaitClosed(doneWriting).ConfigureAwait(false);
    }

    private bool TryReadCore([MaybeNullWhen(false)] out T item)
    {
        // Looked at without the lock first, so an empty ring costs no lock.
        if (_filledSlots.CurrentCount == 0)
        {
            item = default;
            return false;
        }

        return TryReadInRing(out item);
    }

    private ValueTask<T> ReadAsyncCore(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (TryReadCore(out T? item) || (SpinForItem() && TryReadCore(out item)))
        {
            return new ValueTask<T>(item);
        }

        if (IsDrained)
        {
            return HandoffCompletion.Closed<T>(_doneWriting!);
        }

        return ReadAsyncSlow(cancellationToken);
    }

    /// <summary>Waits for a filled slot without taking it, then competes for it; no permit is ever handed to this waiter.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ReadAsyncSlow(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _filledSlots.WaitAvailableAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            if (TryReadCore(out T? item))
            {
                return item;
            }

            if (IsDrained)
            {
                throw HandoffCompletion.CreateClosedException(_doneWriting!);
            }
        }
    }

    private ValueTask<bool> WaitToReadAsyncCore(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return TryAnswerWaitToRead(out ValueTask<bool> answer) || (SpinForItem() && TryAnswerWaitToRead(out answer))
            ? answer
            : WaitToReadAsyncSlow(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToReadAsyncSlow(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _filledSlots.WaitAvailableAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            if (TryAnswerWaitToRead(out ValueTask<bool> answer))
            {
                return await answer.ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Answers when an item is there for <c>TryRead</c> (a filled-slot permit while open; an item in the ring once
    /// completion released its reserve) or when none will ever come.
    /// </summary>
    /// <remarks>
    /// Completion publishes <see cref="_doneWriting"/> before it releases its reserve of filled-slot permits, so a permit seen
    /// while open is checked against <see cref="_doneWriting"/> once more: it may be one of that reserve, not an item.
    /// </remarks>
    private bool TryAnswerWaitToRead(out ValueTask<bool> answer)
    {
        Exception? doneWriting = _doneWriting;
        if (doneWriting is null)
        {
            HandoffCompletion.WaitToReadObserver?.Invoke(this);
        }

        if (doneWriting is null && _filledSlots.CurrentCount > 0)
        {
            doneWriting = _doneWriting;
            if (doneWriting is null)
            {
                answer = new ValueTask<bool>(true);
                return true;
            }
        }

        if (doneWriting is not null && _items.Count > 0)
        {
            answer = new ValueTask<bool>(true);
            return true;
        }

        if (doneWriting is not null)
        {
            answer = HandoffCompletion.WaitClosed(doneWriting);
            return true;
        }

        answer = default;
        return false;
    }

    /// <summary>Peeks at the oldest item, when one is visible (see <see cref="VisibleCount"/>): any filled slot lets a reader take the oldest.</summary>
    private bool TryPeekCore([MaybeNullWhen(false)] out T item)
    {
        if (_fullMode == BoundedChannelFullMode.Wait && _filledSlots.CurrentCount == 0)
        {
            item = default;
            return false;
        }

        using (EnterRing())
        {
            bool found = VisibleCount > 0;
            item = found ? _items.PeekOldest() : default;
            return found;
        }
    }
}
