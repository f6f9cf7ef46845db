using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Pipeline.Primitives;

namespace Pipeline.Handoffs;

/// <summary>
/// A bounded handoff built on one <see cref="ExclusiveLock"/> and two <see cref="Condition"/>s over a ring buffer:
/// readers wait on "not empty", writers on "not full". Usable through <see cref="Channel{T}"/> (asynchronous) and
/// <see cref="IBlockingHandoff{T}"/> (blocking, for stages on dedicated threads), by any number of readers and writers.
/// </summary>
/// <remarks>
/// <para>
/// The lock guards the ring for a few dozen nanoseconds at a time and is only ever taken by a running caller
/// (<see cref="ExclusiveLock.AcquireBarging"/>): nobody waits for the lock while parked, and a notified waiter
/// (<see cref="Condition.ReleaseAndWaitAsync"/>) is not handed the lock but takes it again once it runs. So
/// <c>TryRead</c>, <c>TryWrite</c>, <c>TryPeek</c> and <c>TryComplete</c> wait at most for another running caller's
/// critical section, never for a thread or continuation that has not been scheduled. Nothing is reserved for a waiter:
/// <c>WaitToReadAsync</c> answers <see langword="true"/> only after seeing an item under the lock, which
/// <c>TryRead</c> can take at once (unless another reader takes it first). Waiters are chosen under the lock and woken
/// once it is released (<see cref="Condition.NotifyOnRelease"/>), so waking them is not part of any critical section,
/// and asynchronous waiters resume on the thread pool, never on the notifying thread. A woken reader
/// that still sees an item, with no other reader waiting, answers <c>WaitToReadAsync</c> without the lock, and a woken
/// writer whose item was moved finishes without it.
/// </para>
/// <para>
/// A writer that finds the ring full (<see cref="BoundedChannelFullMode.Wait"/>) in <c>WriteAsync</c> or <c>Write</c>
/// parks its item; the reader that frees a slot moves the oldest parked item into the ring, under the lock, and wakes
/// its writer, whose write is then already done. So the ring refills without waiting for a writer to be scheduled,
/// and at small capacities a reader finds the next item at once instead of waiting for the writer's wake-up. Whether
/// a parked item was delivered is decided under the lock exactly once, and a parked item is never visible to readers
/// (nor counted) until it is in the ring. <c>WaitToWriteAsync</c> answers <see langword="true"/> only when the ring
/// has room after every parked item has been moved.
/// </para>
/// <para>
/// Before an asynchronous reader (<c>ReadAsync</c>, <c>WaitToReadAsync</c>) parks on an empty ring, or <c>WriteAsync</c>
/// parks its item on a full one, the caller spins for up to 2 µs if nobody waits on any of the conditions: the other side
/// is then running, or about to run, and usually makes the item or the room within a few hundred nanoseconds, so the
/// item passes without a park, a wake-up and a thread-pool hop. This holds at every capacity: the ring is guarded by one
/// lock, so a spinner taking each item as it comes costs little more than taking a batch. One reader and one writer spin at a time; a side whose spins keep failing stops spinning except for an
/// occasional probe; a single-core machine never spins. A spin only delays the caller's park: what it then does, and
/// every guarantee here, is unchanged.
/// </para>
/// <para>
/// Cancellation is exact: a write that throws <see cref="OperationCanceledException"/> did not deliver its item, and a
/// read that throws took none. Completing the handoff wakes every waiting reader and writer, blocking or asynchronous.
/// A dropped item (drop modes of <see cref="BoundedChannelFullMode"/>) is counted in <see cref="Dropped"/> and passed to
/// the item-dropped callback, which runs on the writing thread outside the handoff's lock; an item is dropped only
/// when the ring is full at the moment of the write.
/// </para>
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
[DebuggerDisplay("Count = {Reader.Count}, Capacity = {Capacity}")]
public sealed partial class ConditionChannel<T> : Channel<T>, IBlockingHandoff<T>
{
    /// <summary>Guards <see cref="_items"/>, the transition of <see cref="_doneWriting"/> and both conditions; held only by running callers, briefly.</summary>
    private readonly ExclusiveLock _lock = new();

    /// <summary>Notified when an item is written or the handoff is completed; readers wait on it.</summary>
    private readonly Condition _notEmpty;

    /// <summary>
    /// Notified when a reader moved a blocked writer's item into the ring (see <see cref="TryMoveBlockedWriterLocked"/>)
    /// or the handoff is completed; writers whose item is parked in a <see cref="BlockedWriter"/> wait on it.
    /// </summary>
    private readonly Condition _notFull;

    /// <summary>Notified when an item is taken and no writer is blocked (in <see cref="BoundedChannelFullMode.Wait"/> mode), or the handoff is completed; <c>WaitToWriteAsync</c> waits on it.</summary>
    private readonly Condition _writable;

    /// <summary>The buffered items.</summary>
    private readonly RingBuffer<T, PaddedRingIndices> _items;

    /// <summary>What a write into a full ring does.</summary>
    private readonly BoundedChannelFullMode _fullMode;

    /// <summary>Called with each dropped item, outside the lock; may be <see langword="null"/>.</summary>
    private readonly Action<T>? _itemDropped;

    /// <summary>Backs <see cref="ChannelReader{T}.Completion"/>; ended once completed and drained.</summary>
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary><see langword="null"/> while open; the completion exception, or <see cref="HandoffCompletion.DoneWritingSentinel"/>, once completed.</summary>
    private volatile Exception? _doneWriting;

    /// <summary>How many items were dropped; written under the lock, read anywhere.</summary>
    private long _dropped;

    /// <summary>Lets one reader spin for an item before it parks (<see cref="HandoffSpin"/>).</summary>
    private HandoffSpin.Gate _readerSpin;

    /// <summary>Lets one writer spin for room before it parks (<see cref="HandoffSpin"/>).</summary>
    private HandoffSpin.Gate _writerSpin;

    /// <summary>Creates a handoff of the given capacity and full mode.</summary>
    /// <param name="capacity">How many items the handoff holds, 1 to 1,048,576.</param>
    /// <param name="fullMode">What a write into a full handoff does.</param>
    /// <param name="itemDropped">Called with each item that a drop mode discards; may be <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="capacity"/> is outside 1 to 1,048,576, or <paramref name="fullMode"/> is not a defined value.</exception>
    public ConditionChannel(int capacity, BoundedChannelFullMode fullMode = BoundedChannelFullMode.Wait, Action<T>? itemDropped = null)
    {
        HandoffArguments.ValidateConstructor(capacity, fullMode);
        _items = new RingBuffer<T, PaddedRingIndices>(capacity);
        _readerSpin = HandoffSpin.Gate.Create(capacity);
        _writerSpin = HandoffSpin.Gate.Create(capacity);
        _fullMode = fullMode;
        _itemDropped = itemDropped;
        _notEmpty = new Condition(_lock);
        _notFull = new Condition(_lock);
        _writable = new Condition(_lock);
        Reader = new ConditionChannelReader(this);
        Writer = new ConditionChannelWriter(this);
    }

    /// <inheritdoc/>
    public HandoffKind Kind => HandoffKind.Condition;

    /// <inheritdoc/>
    public int Capacity => _items.Capacity;

    /// <inheritdoc/>
    public BoundedChannelFullMode FullMode => _fullMode;

    /// <inheritdoc/>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Takes the lock for a short critical section (<see cref="HandoffLock.Enter"/>).</summary>
    private void EnterLock() => HandoffLock.Enter(_lock);

    /// <summary>
    /// Puts <paramref name="item"/> into the ring if there is room, or applies the full mode, and notifies one reader.
    /// Returns <see langword="false"/> only when the ring is full in <see cref="BoundedChannelFullMode.Wait"/> mode.
    /// </summary>
    private bool TryEnqueueLocked(T item, out T? dropped, out bool hasDropped)
    {
        AssertInvariants();
        if (!_items.IsFull)
        {
            _items.Enqueue(item);
            _notEmpty.NotifyOnRelease();
            dropped = default;
            hasDropped = false;
            return true;
        }

        switch (_fullMode)
        {
            case BoundedChannelFullMode.Wait:
                dropped = default;
                hasDropped = false;
                return false;
            case BoundedChannelFullMode.DropWrite:
                dropped = item;
                break;
            case BoundedChannelFullMode.DropNewest:
                dropped = _items.ReplaceNewest(item);
                break;
            default:
                dropped = _items.Dequeue();
                _items.Enqueue(item);
                break;
        }

        Interlocked.Increment(ref _dropped);
        hasDropped = true;
        return true;
    }

    /// <summary>
    /// Takes the oldest item if there is one, then moves the oldest blocked writer's item into the freed slot or, with
    /// no writer blocked, notifies one <c>WaitToWriteAsync</c> waiter; <paramref name="drained"/> tells that this
    /// emptied a completed handoff.
    /// </summary>
    private bool TryDequeueLocked([MaybeNullWhen(false)] out T item, out bool drained)
    {
        AssertInvariants();
        if (_items.Count == 0)
        {
            item = default;
            drained = false;
            return false;
        }

        item = _items.Dequeue();
        if (_fullMode == BoundedChannelFullMode.Wait && !TryMoveBlockedWriterLocked())
        {
            _writable.NotifyOnRelease();
        }

        drained = _items.Count == 0 && _doneWriting is not null;
        return true;
    }

    /// <summary>
    /// Before a reader parks on an empty ring: with nobody parked on either side (so the writers are running, or about
    /// to run once woken), spins briefly for an item (<see cref="HandoffSpin"/>). Returns <see langword="true"/> when an
    /// item came or the handoff was completed; everything here is read without the lock, as a hint.
    /// </summary>
    private bool SpinForItem() =>
        _readerSpin.IsEnabled && NobodyParked() && HandoffSpin.Until(ref _readerSpin, this, static channel => channel._items.Count > 0 || channel._doneWriting is not null);

    /// <summary>
    /// Before a writer parks on a full ring (<see cref="BoundedChannelFullMode.Wait"/>): with nobody parked on either
    /// side, spins briefly for room. Returns <see langword="true"/> when room came or the handoff was completed.
    /// </summary>
    private bool SpinForRoom() =>
        _writerSpin.IsEnabled && NobodyParked() && HandoffSpin.Until(ref _writerSpin, this, static channel => !channel._items.IsFull || channel._doneWriting is not null);

    /// <summary>
    /// Whether no reader or writer waits on a condition: a parked reader would be notified of the next item, and a
    /// parked writer is ahead of this one, so a spinner would only take what they are woken for.
    /// </summary>
    private bool NobodyParked() => _notEmpty.WaitingCount == 0 && _notFull.WaitingCount == 0 && _writable.WaitingCount == 0;

    private void ReportDropped(bool hasDropped, T? dropped)
    {
        if (hasDropped)
        {
            _itemDropped?.Invoke(dropped!);
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_lock.IsLocked, "Invariants can only be checked while holding the lock.");
        Debug.Assert(_items.Count <= _items.Capacity, "The ring holds more than its capacity.");
    }
}
