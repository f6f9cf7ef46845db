using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Pipeline.Primitives;

namespace Pipeline.Handoffs;

public sealed partial class SemaphoreChannel<T>
{
    /// <summary>Oldest writer parked on a full ring (in <see cref="BoundedChannelFullMode.Wait"/> mode); guarded by the ring's lock.</summary>
    private BlockedWriter? _blockedHead;

    /// <summary>Newest parked writer; guarded by the ring's lock.</summary>
    private BlockedWriter? _blockedTail;

    /// <summary>Records of writers that are no longer parked, kept for reuse so a parked write allocates nothing; guarded by the ring's lock.</summary>
    private BlockedWriter? _freeRecords;

    /// <summary>
    /// Writes in <see cref="BoundedChannelFullMode.Wait"/> mode when the fast path found no free slot: under the
    /// ring's lock, takes a free slot if one was released meanwhile, or parks the item for the reader that frees the
    /// next slot (<see cref="TryMoveBlockedWriterLocked"/>). Readers give a free-slot permit back only under the same
    /// lock and only when no writer is parked, so a writer never stays parked while a free slot is available.
    /// </summary>
    /// <returns><see langword="null"/> when the item is in the ring; otherwise the parked record to wait on.</returns>
    /// <exception cref="ChannelClosedException">Thrown when the handoff is completed.</exception>
    private BlockedWriter? EnqueueOrPark(T item)
    {
        using (EnterRing())
        {
            ThrowIfDoneWriting();
            if (!_freeSlots.TryAcquire())
            {
                return ParkWriterLocked(item);
            }

            _items.Enqueue(item);
        }

        _filledSlots.Release();
        return null;
    }

    /// <summary>Records returned by woken writers without the lock (<see cref="FinishWoken"/>); taken all at once under it.</summary>
    private BlockedWriter? _returnedRecords;

    private BlockedWriter ParkWriterLocked(T item)
    {
        _freeRecords ??= Interlocked.Exchange(ref _returnedRecords, null);
        BlockedWriter record = _freeRecords ?? new BlockedWriter();
        _freeRecords = record.Next;
        record.Item = item;
        record.State = BlockedWriter.Parked;
        record.Next = null;
        record.Previous = _blockedTail;
        if (_blockedTail is null)
        {
            _blockedHead = record;
        }
        else
        {
            _blockedTail.Next = record;
        }

        _blockedTail = record;
        return record;
    }

    /// <summary>
    /// With the ring's lock held, right after a reader took an item in <see cref="BoundedChannelFullMode.Wait"/>
    /// mode: moves the oldest parked writer's item into the freed slot (the free-slot permit passes to it) and
    /// returns its record, whose writer the caller wakes after the lock. Not after completion. Returns
    /// <see langword="null"/> when no writer is parked.
    /// </summary>
    private BlockedWriter? TryMoveBlockedWriterLocked()
    {
        BlockedWriter? record = _blockedHead;
        if (record is null || _doneWriting is not null)
        {
            return null;
        }

        Unlink(record);
        _items.Enqueue(record.Item!);
        record.Item = default;
        record.State = BlockedWriter.Delivered;
        return record;
    }

    /// <summary>With the ring's lock held, during completion: takes every parked writer out, undelivered, to be woken after the lock.</summary>
    private BlockedWriter? RejectBlockedWritersLocked()
    {
        BlockedWriter? rejected = _blockedHead;
        for (BlockedWriter? record = rejected; record is not null; record = record.Next)
        {
            record.State = BlockedWriter.Rejected;
        }

        _blockedHead = _blockedTail = null;
        return rejected;
    }

    /// <summary>Wakes the writers of a list taken out by <see cref="RejectBlockedWritersLocked"/>; call without the lock.</summary>
    private static void WakeRejected(BlockedWriter? rejected)
    {
        while (rejected is not null)
        {
            // Read the link first: a woken writer may recycle its record at once.
            BlockedWriter? next = rejected.Next;
            rejected.Delivery.Set();
            rejected = next;
        }
    }

    /// <summary>Waits until a reader moved the parked item into the ring, or the handoff is completed (then throws).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitDeliveredAsync(BlockedWriter record, CancellationToken cancellationToken)
    {
        try
        {
            await record.Delivery.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (WithdrawOrDelivered(record))
            {
                return;
            }

            throw;
        }

        FinishWoken(record);
    }

    /// <summary>
    /// After the record's event was set (the only thing that sets it): recycles the record, then succeeds if its item
    /// was delivered, else (completion) throws. The state was decided under the lock before the event was set, and
    /// nobody else touches the record any more, so this needs no lock.
    /// </summary>
    /// <exception cref="ChannelClosedException">Thrown when the handoff was completed before the item was delivered.</exception>
    private void FinishWoken(BlockedWriter record)
    {
        bool delivered = record.State == BlockedWriter.Delivered;
        record.Delivery.Clear();

        // A lock-free push; ParkWriterLocked takes the whole stack at once, so no pop can see a reused node.
        BlockedWriter? head = Volatile.Read(ref _returnedRecords);
        while (true)
        {
            record.Next = head;
            BlockedWriter? observed = Interlocked.CompareExchange(ref _returnedRecords, record, head);
            if (ReferenceEquals(observed, head))
            {
                break;
            }

            head = observed;
        }

        if (!delivered)
        {
            ThrowIfDoneWriting();
        }
    }

    /// <summary>
    /// After the writer stopped waiting (cancelled, timed out) without seeing its event: withdraws the item if it is
    /// still parked, and then reuses the record, whose event nobody can set any more (only a reader's move or completion
    /// sets it, and both take the record out of the parked list first). A record a reader or completion took out has its
    /// event set after the lock, perhaps not yet: it is not reused. Decided under the lock, exactly once.
    /// </summary>
    /// <returns><see langword="true"/> if a reader had already moved the item into the ring (the write happened).</returns>
    private bool WithdrawOrDelivered(BlockedWriter record)
    {
        using (EnterRing())
        {
            if (record.State == BlockedWriter.Parked)
            {
                Unlink(record);
                record.Item = default;
                record.State = BlockedWriter.Rejected;
                record.Next = _freeRecords;
                _freeRecords = record;
                return false;
            }

            return record.State == BlockedWriter.Delivered;
        }
    }

    private void Unlink(BlockedWriter record)
    {
        Debug.Assert(record.State == BlockedWriter.Parked, "Only a parked record is linked.");
        if (record.Previous is null)
        {
            _blockedHead = record.Next;
        }
        else
        {
            record.Previous.Next = record.Next;
        }

        if (record.Next is null)
        {
            _blockedTail = record.Previous;
        }
        else
        {
            record.Next.Previous = record.Previous;
        }

        record.Previous = null;
        record.Next = null;
    }

    /// <summary>The item of a writer parked on a full ring; every field but <see cref="Delivery"/> is guarded by the ring's lock.</summary>
    private sealed class BlockedWriter
    {
        /// <summary>Linked in the parked list, its item not yet in the ring.</summary>
        public const int Parked = 0;

        /// <summary>A reader moved the item into the ring: the write happened.</summary>
        public const int Delivered = 1;

        /// <summary>Taken out undelivered, by completion or by its writer giving up.</summary>
        public const int Rejected = 2;

        /// <summary>Set once the record leaves the parked list for a reader's move or completion; the writer waits on it.</summary>
        public readonly Event Delivery = new();

        /// <summary>The item to write, until a reader moves it into the ring or its writer withdraws it.</summary>
        public T? Item;

        /// <summary>One of <see cref="Parked"/>, <see cref="Delivered"/>, <see cref="Rejected"/>.</summary>
        public int State;

        /// <summary>The previous (older) record.</summary>
        public BlockedWriter? Previous;

        /// <summary>The next (newer) record, the next free record while pooled, or the next rejected one.</summary>
        public BlockedWriter? Next;
    }
}
