using System.Threading.Channels;

namespace Pipeline.Handoffs;

public sealed partial class ConditionChannel<T>
{
    /// <summary>Oldest writer blocked on a full ring (in <see cref="BoundedChannelFullMode.Wait"/> mode); guarded by the lock.</summary>
    private BlockedWriter? _blockedHead;

    /// <summary>Newest blocked writer; guarded by the lock.</summary>
    private BlockedWriter? _blockedTail;

    /// <summary>Records of writers that are no longer blocked, kept for reuse so a blocked write allocates nothing; guarded by the lock.</summary>
    private BlockedWriter? _freeRecords;

    /// <summary>Records returned by woken writers without the lock (<see cref="ReturnDeliveredRecord"/>); taken all at once under it.</summary>
    private BlockedWriter? _returnedRecords;

    /// <summary>
    /// Parks the item of a writer that found the ring full, so the reader that frees a slot moves it into the ring
    /// (<see cref="TryMoveBlockedWriterLocked"/>) and the ring does not wait, empty, for the writer to be scheduled.
    /// Called with the lock held, right before the writer waits on <see cref="_notFull"/> under the same hold.
    /// </summary>
    private BlockedWriter ParkWriterLocked(T item)
    {
        _freeRecords ??= Interlocked.Exchange(ref _returnedRecords, null);
        BlockedWriter record = _freeRecords ?? new BlockedWriter();
        _freeRecords = record.Next;
        record.Item = item;
        record.Delivered = false;
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
    /// With the lock held, after the writer that owns <paramref name="record"/> woke, timed out or was cancelled:
    /// withdraws the item if no reader moved it yet, and recycles the record. Whether the item was delivered is
    /// decided here, under the lock, exactly once.
    /// </summary>
    /// <returns><see langword="true"/> if a reader moved the item into the ring (the write happened).</returns>
    private bool ReclaimWriterLocked(BlockedWriter record)
    {
        bool delivered = record.Delivered;
        if (!delivered)
        {
            Unlink(record);
        }

        record.Item = default;
        record.Previous = null;
        record.Next = _freeRecords;
        _freeRecords = record;
        return delivered;
    }

    /// <summary>
    /// With the lock held, right after a reader took an item: moves the oldest blocked writer's item into the freed
    /// slot and wakes that writer, which will find its write done. Not after completion: a blocked writer's item is
    /// then not delivered. Returns <see langword="false"/> when no writer is blocked.
    /// </summary>
    /// <remarks>
    /// Each blocked writer joins <see cref="_notFull"/> under the same hold of the lock that appends its record, and
    /// only this method notifies <see cref="_notFull"/> before completion, once per record moved: so the oldest
    /// writer still waiting on the condition is the owner of the oldest record, unless that owner stopped waiting
    /// (timeout, cancellation) and will reclaim its record itself. A writer woken for a record that is not its own
    /// finds its item still parked and waits again.
    /// </remarks>
    private bool TryMoveBlockedWriterLocked()
    {
        BlockedWriter? record = _blockedHead;
        if (record is null || _doneWriting is not null)
        {
            return false;
        }

        Unlink(record);
        _items.Enqueue(record.Item!);
        record.Item = default;

        // Last write to the record: a woken owner that reads it true (without the lock) may recycle the record at once.
        Volatile.Write(ref record.Delivered, true);
        _notFull.NotifyOnRelease();
        _notEmpty.NotifyOnRelease();
        return true;
    }

    /// <summary>
    /// Recycles the record of a delivered write without the lock: a push onto <see cref="_returnedRecords"/>, which
    /// <see cref="ParkWriterLocked"/> takes whole (so no pop can see a reused node).
    /// </summary>
    private void ReturnDeliveredRecord(BlockedWriter record)
    {
        BlockedWriter? head = Volatile.Read(ref _returnedRecords);
        while (true)
        {
            record.Next = head;
            BlockedWriter? observed = Interlocked.CompareExchange(ref _returnedRecords, record, head);
            if (ReferenceEquals(observed, head))
            {
                return;
            }

            head = observed;
        }
    }

    private void Unlink(BlockedWriter record)
    {
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

    /// <summary>The item of a writer blocked on a full ring; every field guarded by the channel's lock.</summary>
    private sealed class BlockedWriter
    {
        /// <summary>The item to write, until a reader moves it into the ring or its writer withdraws it.</summary>
        public T? Item;

        /// <summary>Whether a reader moved <see cref="Item"/> into the ring.</summary>
        public bool Delivered;

        /// <summary>The previous (older) record.</summary>
        public BlockedWriter? Previous;

        /// <summary>The next (newer) record, or the next free record while pooled.</summary>
        public BlockedWriter? Next;
    }
}
