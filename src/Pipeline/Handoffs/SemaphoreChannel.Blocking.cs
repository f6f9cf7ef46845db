using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace Pipeline.Handoffs;

public sealed partial class SemaphoreChannel<T>
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
        if (_fullMode != BoundedChannelFullMode.Wait)
        {
            if (!WriteDropping(item))
            {
                ThrowIfDoneWriting();
            }

            return true;
        }

        ThrowIfDoneWriting();
        RingWrite written = TryWriteInRing(item);
        if (written != RingWrite.Full)
        {
            if (written == RingWrite.Closed)
            {
                ThrowIfDoneWriting();
            }

            return true;
        }

        // No free slot: park the item for the reader that frees the next one, and wait until it is moved.
        BlockedWriter? record = EnqueueOrPark(item);
        if (record is null)
        {
            return true;
        }

        bool woken;
        try
        {
            woken = record.Delivery.Wait(timeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            if (WithdrawOrDelivered(record))
            {
                return true;
            }

            throw;
        }

        if (!woken)
        {
            // Timed out: the write happened only if a reader moved the item before this point.
            return WithdrawOrDelivered(record);
        }

        FinishWoken(record);
        return true;
    }

    private bool ReadBlocking([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (TryReadCore(out item))
            {
                return true;
            }

            if (IsDrained)
            {
                ThrowIfDoneWriting();
            }

            if (!_filledSlots.WaitAvailable(HandoffArguments.Remaining(started, timeout), cancellationToken))
            {
                return false;
            }
        }
    }
}
