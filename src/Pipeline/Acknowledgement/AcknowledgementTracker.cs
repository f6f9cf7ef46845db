using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

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
/// <see cref="AddReferences"/> and <see cref="Release(long)"/> by any number of threads at once. No lock and no allocation per
/// item: the items live in a ring of slots; a release is one interlocked decrement, and only the release of the oldest item moves
/// the watermark. Moving it claims each accounted-for slot with a compare-and-swap (0 references to <c>Passed</c>), so exactly one
/// thread passes each slot, and the chain of passes is handed from thread to thread without a shared flag. In order, an item costs
/// three interlocked operations; <see cref="Release(ReadOnlySpan{long})"/> releases a batch with one decrement per item and moves
/// the watermark once, after the whole batch.
/// </para>
/// <para>
/// The ring bounds how far the source may run ahead: while <see cref="RunAsync"/> runs, of the last acknowledgement (so a crash
/// delivers at most <see cref="Capacity"/> items again: those in flight, finished behind one in flight, or accounted for and not yet
/// acknowledged); otherwise of the oldest item in flight. When it is full, <see cref="TryRegister"/> returns <see langword="false"/>,
/// and <see cref="WaitForRoomAsync"/> asks for an acknowledgement at once and completes once it is sent (or the watermark moved).
/// Acknowledgements are coalesced by <see cref="RunAsync"/>: sent when <c>maxCount</c> items were accounted for since the last one,
/// when the source waits for room, and otherwise every <c>maxDelay</c> while the watermark moved; <see cref="FlushAsync"/> sends the
/// final one.
/// </para>
/// </remarks>
internal sealed partial class AcknowledgementTracker : IDisposable
{
    /// <summary>The watermark before any item is accounted for.</summary>
    public const long NoWatermark = long.MinValue;

    /// <summary>The references of a slot the watermark has passed, or that holds no item yet.</summary>
    private const int Passed = int.MinValue;

    private readonly Slot[] _slots;
    private readonly long _mask;
    private readonly Func<long, CancellationToken, ValueTask> _acknowledge;
    private readonly int _maxCount;
    private readonly TimeSpan _maxDelay;
    private readonly TimeProvider _timeProvider;

    /// <summary>The ticket of the oldest item not yet passed by the watermark; written only by the advancing thread.</summary>
    private long _head = 1;

    /// <summary>What the registering thread writes for every item, on cache lines of its own, away from what the threads that
    /// release and pass items write for every item.</summary>
    private RegisteringSide _registering = new();

    /// <summary>The contiguous watermark; <see cref="NoWatermark"/> until the first item is accounted for.</summary>
    private long _watermark = NoWatermark;

    /// <summary>How many items the watermark has passed; written only by the thread that passes them (one at a time, in turn).</summary>
    private long _passedCount;

    /// <summary>The ticket of the oldest item the last acknowledgement did not cover; written only by the sending thread.</summary>
    private long _acknowledgedHead = 1;

    /// <summary>1 while <see cref="RunAsync"/> runs: room is then counted from <see cref="_acknowledgedHead"/>, else from <see cref="_head"/>.</summary>
    private int _acknowledging;

    /// <summary>Set by the registering thread when the ring is full; completed by the next advance or acknowledgement.</summary>
    private TaskCompletionSource? _roomWaiter;

    /// <summary>Initializes a tracker.</summary>
    /// <param name="acknowledge">Tells the source the watermark; never called concurrently with itself.</param>
    /// <param name="capacity">How many items may be registered and not covered by the last acknowledgement (by the watermark while no acknowledgement loop runs); rounded up to a power of two.</param>
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
        foreach (ref var slot in _slots.AsSpan())
        {
            // A slot holds no item until registered: Passed, so that an advance never claims it.
            slot.References = Passed;
        }

        _acknowledge = acknowledge;
        _maxCount = maxCount;
        _maxDelay = maxDelay;
        _timeProvider = timeProvider;
    }

    /// <summary>Gets how many items may be registered and not yet covered by the last acknowledgement (by the watermark while <see cref="RunAsync"/> does not run).</summary>
    public int Capacity => _slots.Length;

    /// <summary>Gets the contiguous watermark, or <see cref="NoWatermark"/> before the first item is accounted for.</summary>
    public long Watermark => Volatile.Read(ref _watermark);

    /// <summary>Gets how many registered items the watermark has not passed yet (in flight, or finished behind one in flight).</summary>
    public long Pending => Volatile.Read(ref _registering.Tail) - Volatile.Read(ref _head);

    /// <summary>Registers the item the source just yielded at <paramref name="position"/>, with one reference.</summary>
    /// <param name="position">Strictly greater than the previous registered position.</param>
    /// <param name="ticket">The item's ticket (1 or more), to be released when the item is accounted for.</param>
    /// <returns><see langword="false"/> when the ring is full; nothing changes (wait with <see cref="WaitForRoomAsync"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="position"/> is not greater than the previous one.</exception>
    public bool TryRegister(long position, out long ticket)
    {
        if (position <= _registering.LastPosition)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position,
                $"Positions must be strictly increasing per source; the previous item's was {_registering.LastPosition}.");
        }

        var next = _registering.Tail;
        if (next >= _registering.RoomLimit)
        {
            _registering.RoomLimit = RoomBase() + _slots.Length;
            if (next >= _registering.RoomLimit)
            {
                ticket = 0;
                return false;
            }
        }

        ref var slot = ref _slots[next & _mask];
        slot.Position = position;
        Volatile.Write(ref slot.References, 1);

        // Published after the slot: an advancing thread that sees the new tail sees the slot's reference.
        Volatile.Write(ref _registering.Tail, next + 1);
        _registering.LastPosition = position;
        ticket = next;
        return true;
    }

    /// <summary>
    /// Completes when <see cref="TryRegister"/> may succeed again (an acknowledgement was sent, or the watermark moved), at once when it
    /// may now. While <see cref="RunAsync"/> runs, asks it to acknowledge now rather than at its next count or tick.
    /// </summary>
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
        if (Volatile.Read(ref _acknowledging) == 1)
        {
            // The source waits on the acknowledgements: coalescing further would only stall it.
            RequestSend();
        }

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
        Debug.Assert(ticket > 0 && ticket < Volatile.Read(ref _registering.Tail), "The ticket was registered.");
        var references = Interlocked.Add(ref _slots[ticket & _mask].References, count);
        Debug.Assert(references > count || count == 0, "References are added only while the item still holds one.");
    }

    /// <summary>Releases one reference of an item; the last one accounts for it, and may move the watermark.</summary>
    /// <param name="ticket">The item's ticket.</param>
    public void Release(long ticket)
    {
        Debug.Assert(ticket > 0 && ticket < Volatile.Read(ref _registering.Tail), "The ticket was registered.");
        var references = Interlocked.Decrement(ref _slots[ticket & _mask].References);
        Debug.Assert(references >= 0, "Released more often than referenced.");

        // Only the oldest item moves the watermark; a later one is passed when the oldest is released. The decrement is a full
        // fence, so this read sees a head moved to this ticket before the mover looked at the slot (and then the mover claims it).
        if (references == 0 && ticket == Volatile.Read(ref _head))
        {
            PassFrom(ticket);
        }
    }

    /// <summary>Releases one reference of each item of a batch, then moves the watermark once.</summary>
    /// <param name="tickets">The tickets the batch carries.</param>
    public void Release(ReadOnlySpan<long> tickets)
    {
        foreach (var ticket in tickets)
        {
            var references = Interlocked.Decrement(ref _slots[ticket & _mask].References);
            Debug.Assert(references >= 0, "Released more often than referenced.");
        }

        PassFrom(Volatile.Read(ref _head));
    }

    private bool HasRoom() => _registering.Tail - RoomBase() < _slots.Length;

    /// <summary>The ticket room is counted from: the oldest item not acknowledged while acknowledging, else the oldest not passed.</summary>
    private long RoomBase() => Volatile.Read(ref _acknowledging) == 1 ? Volatile.Read(ref _acknowledgedHead) : Volatile.Read(ref _head);

    /// <summary>Completes the room waiter, if any; the caller changed what <see cref="RoomBase"/> returns (after a full fence).</summary>
    private void WakeRoomWaiter()
    {
        if (Volatile.Read(ref _roomWaiter) is { } waiter && Interlocked.CompareExchange(ref _roomWaiter, null, waiter) == waiter)
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Passes the slots from <paramref name="ticket"/> on while they are accounted for, claiming each.</summary>
    private void PassFrom(long ticket)
    {
        ref var slot = ref _slots[ticket & _mask];
        if (Interlocked.CompareExchange(ref slot.References, Passed, 0) != 0)
        {
            return;
        }

        // This thread alone passes slots now: the next slot can be claimed only after the head names it.
        var passed = Volatile.Read(ref _passedCount);
        while (true)
        {
            Volatile.Write(ref _watermark, slot.Position);
            Volatile.Write(ref _passedCount, ++passed);
            ticket++;
            Volatile.Write(ref _head, ticket);

            // The compare-and-swap is a full fence: the new head is visible before the slot is looked at, so a release that
            // leaves it at 0 after this look reads the new head and claims the slot itself. A slot not yet registered is Passed.
            slot = ref _slots[ticket & _mask];
            if (Interlocked.CompareExchange(ref slot.References, Passed, 0) != 0)
            {
                break;
            }
        }

        OnPassed(passed);
        WakeRoomWaiter();
    }

    /// <summary>The registering thread's fields, with a cache line (and the next, for the adjacent-line prefetcher) on each side.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 216)]
    private struct RegisteringSide
    {
        /// <summary>The ticket the next registered item gets; written only by the registering thread.</summary>
        [FieldOffset(64)]
        public long Tail = 1;

        /// <summary>
        /// The registering thread's copy of the ticket at which the ring is full: <see cref="RoomBase"/> plus the capacity, as last
        /// read. The room base only grows while the source registers (the last acknowledgement and the watermark only move on, and it
        /// moves from the first to the second when acknowledging ends), so a stale copy only makes a registration look again; the
        /// shared fields are read when the copy runs out, not for every item. 0 until the first registration.
        /// </summary>
        [FieldOffset(72)]
        public long RoomLimit;

        /// <summary>The position of the newest registered item; <see cref="NoWatermark"/> before the first.</summary>
        [FieldOffset(80)]
        public long LastPosition = NoWatermark;

        public RegisteringSide()
        {
        }
    }

    /// <summary>One item of the ring.</summary>
    private struct Slot
    {
        /// <summary>The item's position in the source.</summary>
        public long Position;

        /// <summary>How many references are left; 0 = accounted for; <see cref="Passed"/> = passed by the watermark, or no item.</summary>
        public int References;
    }
}
