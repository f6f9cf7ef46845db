using System.Diagnostics;
using System.Numerics;

namespace Pipeline;

/// <summary>
/// Tracks the items of one acknowledging source from the moment it yields them until they are accounted for, and computes the
/// contiguous watermark: the position of the newest item such that it and every item before it are accounted for.
/// </summary>
/// <remarks>
/// <para>
/// Each registered item gets a ticket (1, 2, 3… in registration order; 0 means none, as in an envelope) and one reference. A
/// transform that turns an item into n outputs adds n references and releases the input's own; a batch carries the tickets of its
/// items and releases each when it is sunk. An item is accounted for when its last reference is released.
/// </para>
/// <para>
/// Threading: <see cref="TryRegister"/> and <see cref="WaitForRoomAsync"/> are called by one thread at a time (the source's runner);
/// <see cref="AddReferences"/> and <see cref="Release(long)"/> by any number of threads at once. No lock and no allocation per item:
/// the items live in a ring of slots, a release is one interlocked decrement, and only the release of the oldest item advances
/// the watermark, by one thread at a time (a compare-and-swap; a thread that loses it leaves the work to the winner, which looks
/// again after it lets go).
/// </para>
/// <para>
/// The ring bounds how far the source may run ahead of the oldest item in flight: when it is full, <see cref="TryRegister"/>
/// returns <see langword="false"/> until the watermark moves. Acknowledgements are coalesced by <see cref="RunAsync"/>: sent when
/// <c>maxCount</c> items were accounted for since the last one, or <c>maxDelay</c> after the watermark first moved, whichever
/// comes first; <see cref="FlushAsync"/> sends the final one.
/// </para>
/// </remarks>
internal sealed partial class AcknowledgementTracker : IDisposable
{
    /// <summary>The watermark before any item is accounted for.</summary>
    public const long NoWatermark = long.MinValue;

    private readonly Slot[] _slots;
    private readonly long _mask;
    private readonly Func<long, CancellationToken, ValueTask> _acknowledge;
    private readonly int _maxCount;
    private readonly TimeSpan _maxDelay;
    private readonly TimeProvider _timeProvider;

    /// <summary>The ticket of the oldest item not yet passed by the watermark; written only by the advancing thread.</summary>
    private long _head = 1;

    /// <summary>The ticket the next registered item gets; written only by the registering thread.</summary>
    private long _tail = 1;

    /// <summary>The position of the newest registered item; <see cref="NoWatermark"/> before the first.</summary>
    private long _lastRegisteredPosition = NoWatermark;

    /// <summary>The contiguous watermark; <see cref="NoWatermark"/> until the first item is accounted for.</summary>
    private long _watermark = NoWatermark;

    /// <summary>1 while a thread advances the watermark.</summary>
    private int _advancing;

    /// <summary>Set by the registering thread when the ring is full; completed by the next advance.</summary>
    private TaskCompletionSource? _roomWaiter;

    /// <summary>Initializes a tracker.</summary>
    /// <param name="acknowledge">Tells the source the watermark; never called concurrently with itself.</param>
    /// <param name="capacity">How many items may be registered and not passed by the watermark; rounded up to a power of two.</param>
    /// <param name="maxCount">Acknowledge once this many items were accounted for since the last acknowledgement.</param>
    /// <param name="maxDelay">Acknowledge at the latest this long after the watermark first moved since the last acknowledgement.</param>
    /// <param name="timeProvider">The clock of <paramref name="maxDelay"/>.</param>
    public AcknowledgementTracker(Func<long, CancellationToken, ValueTask> acknowledge, int capacity, int maxCount, TimeSpan maxDelay, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(acknowledge);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 30);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxDelay, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _slots = new Slot[BitOperations.RoundUpToPowerOf2((uint)capacity)];
        _mask = _slots.Length - 1;
        _acknowledge = acknowledge;
        _maxCount = maxCount;
        _maxDelay = maxDelay;
        _timeProvider = timeProvider;
    }

    /// <summary>Gets how many items may be registered and not yet passed by the watermark.</summary>
    public int Capacity => _slots.Length;

    /// <summary>Gets the contiguous watermark, or <see cref="NoWatermark"/> before the first item is accounted for.</summary>
    public long Watermark => Volatile.Read(ref _watermark);

    /// <summary>Gets how many registered items the watermark has not passed yet (in flight, or finished behind one in flight).</summary>
    public long Pending => Volatile.Read(ref _tail) - Volatile.Read(ref _head);

    /// <summary>Registers the item the source just yielded at <paramref name="position"/>, with one reference.</summary>
    /// <param name="position">Strictly greater than the previous registered position.</param>
    /// <param name="ticket">The item's ticket (1 or more), to be released when the item is accounted for.</param>
    /// <returns><see langword="false"/> when the ring is full; nothing changes (wait with <see cref="WaitForRoomAsync"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="position"/> is not greater than the previous one.</exception>
    public bool TryRegister(long position, out long ticket)
    {
        if (position <= _lastRegisteredPosition)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position,
                $"Positions must be strictly increasing per source; the previous item's was {_lastRegisteredPosition}.");
        }

        var next = _tail;
        if (next - Volatile.Read(ref _head) >= _slots.Length)
        {
            ticket = 0;
            return false;
        }

        ref var slot = ref _slots[next & _mask];
        slot.Position = position;
        Volatile.Write(ref slot.References, 1);

        // Published after the slot: an advancing thread that sees the new tail sees the slot's reference.
        Volatile.Write(ref _tail, next + 1);
        _lastRegisteredPosition = position;
        ticket = next;
        return true;
    }

    /// <summary>Completes when <see cref="TryRegister"/> may succeed again (the watermark moved), at once when it may now.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when there is room.</returns>
    public ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        if (HasRoom())
        {
            return default;
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _roomWaiter, waiter);

        // Looked at again after publishing the waiter: an advance between the first look and the publication would not have seen it.
        Interlocked.MemoryBarrier();
        if (HasRoom())
        {
            Interlocked.CompareExchange(ref _roomWaiter, null, waiter);
            return default;
        }

        return new ValueTask(waiter.Task.WaitAsync(cancellationToken));
    }

    /// <summary>Adds <paramref name="count"/> references to an item that still holds one (before handing out that many outputs of it).</summary>
    /// <param name="ticket">The item's ticket.</param>
    /// <param name="count">How many references to add; 0 or more.</param>
    public void AddReferences(long ticket, int count)
    {
        Debug.Assert(ticket > 0 && ticket < Volatile.Read(ref _tail), "The ticket was registered.");
        var references = Interlocked.Add(ref _slots[ticket & _mask].References, count);
        Debug.Assert(references > count, "References are added only while the item still holds one.");
    }

    /// <summary>Releases one reference of an item; the last one accounts for it, and may move the watermark.</summary>
    /// <param name="ticket">The item's ticket.</param>
    public void Release(long ticket)
    {
        Debug.Assert(ticket > 0 && ticket < Volatile.Read(ref _tail), "The ticket was registered.");
        var references = Interlocked.Decrement(ref _slots[ticket & _mask].References);
        Debug.Assert(references >= 0, "Released more often than referenced.");

        // Only the oldest item moves the watermark; a later one is passed when the oldest is released.
        if (references == 0 && ticket == Volatile.Read(ref _head))
        {
            Advance();
        }
    }

    /// <summary>Releases one reference of each item of a batch.</summary>
    /// <param name="tickets">The tickets the batch carries.</param>
    public void Release(ReadOnlySpan<long> tickets)
    {
        foreach (var ticket in tickets)
        {
            Release(ticket);
        }
    }

    private bool HasRoom() => _tail - Volatile.Read(ref _head) < _slots.Length;

    private bool HeadIsAccountedFor()
    {
        var head = Volatile.Read(ref _head);
        return head < Volatile.Read(ref _tail) && Volatile.Read(ref _slots[head & _mask].References) == 0;
    }

    private void Advance()
    {
        do
        {
            if (Interlocked.CompareExchange(ref _advancing, 1, 0) != 0)
            {
                // The advancing thread looks at the head again after it lets go, and sees this release.
                return;
            }

            AdvanceWhileHeld();
            Interlocked.Exchange(ref _advancing, 0);
        }
        while (HeadIsAccountedFor());
    }

    private void AdvanceWhileHeld()
    {
        var head = _head;
        var tail = Volatile.Read(ref _tail);
        var watermark = NoWatermark;
        while (head < tail)
        {
            ref var slot = ref _slots[head & _mask];
            if (Volatile.Read(ref slot.References) != 0)
            {
                break;
            }

            watermark = slot.Position;
            head++;
        }

        var passed = head - _head;
        if (passed == 0)
        {
            return;
        }

        Volatile.Write(ref _watermark, watermark);

        // A full fence: a release that read the old head must be seen by the look at the new head that follows.
        Interlocked.Exchange(ref _head, head);
        OnAdvanced(passed);
        if (Volatile.Read(ref _roomWaiter) is { } waiter && Interlocked.CompareExchange(ref _roomWaiter, null, waiter) == waiter)
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>One item of the ring.</summary>
    private struct Slot
    {
        /// <summary>The item's position in the source.</summary>
        public long Position;

        /// <summary>How many references are left; 0 = accounted for.</summary>
        public int References;
    }
}
