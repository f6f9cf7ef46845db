using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Pipeline.Primitives;

namespace Pipeline.Handoffs;

/// <summary>
/// A bounded handoff built on two semaphores over a ring buffer: a <see cref="BoundedSemaphore"/> counts free slots
/// (writers take one), a <see cref="CountingSemaphore"/> counts filled slots (readers take one), and an
/// <see cref="ExclusiveLock"/>, held by running callers for a short critical section, guards the ring itself. Usable
/// through <see cref="Channel{T}"/> (asynchronous) and <see cref="IBlockingHandoff{T}"/> (blocking, for stages on
/// dedicated threads), by any number of readers and writers.
/// </summary>
/// <remarks>
/// <para>
/// Permits are only ever taken by running callers (<see cref="CountingSemaphore.TryAcquire()"/>), inside the critical
/// section on the ring in which the caller also moves its item: a caller never holds a permit while it waits for the
/// ring's lock, and callers of one side contend for that lock alone, not for the lock and their semaphore. A caller that
/// finds no permit waits for one to become available (<see cref="CountingSemaphore.WaitAvailableAsync"/>) without taking
/// it, and then competes for it. So no permit is ever in transit to a waiter that has not run yet: <c>WaitToReadAsync</c>
/// answers <see langword="true"/> only when a filled-slot permit is there for <c>TryRead</c> to take (unless another
/// reader takes it first), <c>WaitToWriteAsync</c> likewise for free slots, and <c>TryRead</c>, <c>TryWrite</c>,
/// <c>TryPeek</c> and <c>TryComplete</c> wait at most for another running caller's critical section on the ring.
/// Waiters resume on the thread pool, never on the releasing thread.
/// </para>
/// <para>
/// A writer that finds no free slot (<see cref="BoundedChannelFullMode.Wait"/>) in <c>WriteAsync</c> or <c>Write</c>
/// parks its item, under the ring's lock, and waits on its own <see cref="Event"/>; the reader that frees a slot moves
/// the oldest parked item into the ring (the free-slot permit passes to that writer), publishes it as a filled slot and
/// sets the writer's event after the lock, so the ring refills without waiting for the writer to be scheduled. Readers
/// give a free-slot permit back only under the same lock and only when no writer is parked, so no writer stays parked
/// while a slot is free. Whether a parked item was delivered is decided under the lock exactly once.
/// </para>
/// <para>
/// At capacities up to 16, before an asynchronous reader (<c>ReadAsync</c>, <c>WaitToReadAsync</c>) waits for a filled
/// slot or <c>WriteAsync</c> parks its item, the caller spins for up to 2 µs if nobody is parked on either side
/// (<see cref="CountingSemaphore.WaitingCount"/>, no parked writer): the other side is then running, or about to run,
/// and usually frees the slot or fills it within a few hundred nanoseconds, so the item passes without a park, a
/// wake-up and a thread-pool hop. Larger rings do not spin: there a reader that parks lets the writers fill a batch,
/// which moves fewer cache lines between cores per item than a spinner taking each item as it comes (four shared lines
/// per item here: both semaphores, the ring's lock and the ring). One reader and one writer spin at a time; a side
/// whose spins keep failing stops spinning except for an occasional probe; a single-core machine never spins. A spin only delays the caller's park: what it then does, and every guarantee above, is unchanged.
/// </para>
/// <para>
/// Cancellation is exact: a write that throws <see cref="OperationCanceledException"/> did not deliver its item, and a
/// read that throws took none. Completing the handoff releases a large reserve of permits on both semaphores, which
/// wakes every waiting reader and writer, blocking or asynchronous; each of them then finds the handoff completed. A
/// dropped item (drop modes of <see cref="BoundedChannelFullMode"/>) is counted in <see cref="Dropped"/> and passed to the
/// item-dropped callback, which runs on the writing thread outside the ring's lock. Free-slot permits change only
/// inside the ring's critical section until completion, so in the drop modes a write drops an item only when the ring
/// is full.
/// </para>
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
[DebuggerDisplay("Count = {Reader.Count}, Capacity = {Capacity}")]
public sealed partial class SemaphoreChannel<T> : Channel<T>, IBlockingHandoff<T>
{
    /// <summary>
    /// Permits released on both semaphores by completion so that every present and future waiter wakes. Large enough
    /// never to run out, small enough that counts cannot overflow.
    /// </summary>
    private const int CompletionReserve = 1 << 29;

    /// <summary>The largest capacity at which callers spin before they park (<see cref="HandoffSpin"/>).</summary>
    private const int MaxSpinningCapacity = 16;

    /// <summary>
    /// Free slots: capacity minus the items in the ring whenever the ring's lock is free (a writer takes one in the same
    /// critical section in which it enqueues). Taken and released only under the ring's lock, and in
    /// <see cref="BoundedChannelFullMode.Wait"/> mode released only when no writer is parked. Its bound is the capacity
    /// plus <see cref="CompletionReserve"/>, which completion releases after the lock.
    /// </summary>
    private readonly BoundedSemaphore _freeSlots;

    /// <summary>Filled slots: one permit per item in the ring that no reader has claimed yet (plus the reserve once completed).</summary>
    private readonly CountingSemaphore _filledSlots = new(0);

    /// <summary>Guards <see cref="_items"/> and the transition of <see cref="_doneWriting"/>; held for a few instructions, never across a wait.</summary>
    private readonly ExclusiveLock _ringLock = new();

    /// <summary>The buffered items.</summary>
    private readonly RingBuffer<T, PlainRingIndices> _items;

    /// <summary>What a write into a full ring does.</summary>
    private readonly BoundedChannelFullMode _fullMode;

    /// <summary>Called with each dropped item, outside the lock; may be <see langword="null"/>.</summary>
    private readonly Action<T>? _itemDropped;

    /// <summary>Backs <see cref="ChannelReader{T}.Completion"/>; ended once completed and drained.</summary>
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary><see langword="null"/> while open; the completion exception, or <see cref="HandoffCompletion.DoneWritingSentinel"/>, once completed.</summary>
    private volatile Exception? _doneWriting;

    /// <summary>How many items were dropped.</summary>
    private long _dropped;

    /// <summary>Lets one reader spin for a filled slot before it parks (<see cref="HandoffSpin"/>).</summary>
    private HandoffSpin.Gate _readerSpin;

    /// <summary>Lets one writer spin for a free slot before it parks (<see cref="HandoffSpin"/>).</summary>
    private HandoffSpin.Gate _writerSpin;

    /// <summary>Creates a handoff of the given capacity and full mode.</summary>
    /// <param name="capacity">How many items the handoff holds, 1 to 1,048,576.</param>
    /// <param name="fullMode">What a write into a full handoff does.</param>
    /// <param name="itemDropped">Called with each item that a drop mode discards; may be <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="capacity"/> is outside 1 to 1,048,576, or <paramref name="fullMode"/> is not a defined value.</exception>
    public SemaphoreChannel(int capacity, BoundedChannelFullMode fullMode = BoundedChannelFullMode.Wait, Action<T>? itemDropped = null)
    {
        HandoffArguments.ValidateConstructor(capacity, fullMode);
        _items = new RingBuffer<T, PlainRingIndices>(capacity);
        _fullMode = fullMode;
        _itemDropped = itemDropped;
        _freeSlots = new BoundedSemaphore(capacity, capacity + CompletionReserve);
        _readerSpin = HandoffSpin.Gate.Create(capacity, enabled: capacity <= MaxSpinningCapacity);
        _writerSpin = HandoffSpin.Gate.Create(capacity, enabled: capacity <= MaxSpinningCapacity);
        Reader = new SemaphoreChannelReader(this);
        Writer = new SemaphoreChannelWriter(this);
    }

    /// <inheritdoc/>
    public HandoffKind Kind => HandoffKind.Semaphore;

    /// <inheritdoc/>
    public int Capacity => _items.Capacity;

    /// <inheritdoc/>
    public BoundedChannelFullMode FullMode => _fullMode;

    /// <inheritdoc/>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Whether no item will ever be readable: completed, and the ring is empty.</summary>
    private bool IsDrained => _doneWriting is not null && _items.Count == 0;

    /// <summary>What <see cref="TryWriteInRing"/> did.</summary>
    private enum RingWrite
    {
        /// <summary>The item is in the ring and its filled slot released.</summary>
        Written,

        /// <summary>No free slot: nothing was written.</summary>
        Full,

        /// <summary>The handoff is completed: nothing was written.</summary>
        Closed,
    }

    /// <summary>
    /// Writes in <see cref="BoundedChannelFullMode.Wait"/> mode without waiting: takes a free slot and enqueues, both under
    /// the ring's lock, then releases a filled slot after it. A free slot is looked at first without the lock, so a full
    /// ring costs no lock.
    /// </summary>
    /// <remarks>
    /// Taking the permit inside the critical section, rather than before entering it, means only the lock's holder ever
    /// changes the free-slot count on the writing side: writers contend for the lock alone, not for the lock and the
    /// semaphore, and a permit is never held by a caller that is waiting for the lock.
    /// </remarks>
    private RingWrite TryWriteInRing(T item)
    {
        if (_freeSlots.CurrentCount == 0)
        {
            return _doneWriting is null ? RingWrite.Full : RingWrite.Closed;
        }

        using (EnterRing())
        {
            if (_doneWriting is not null)
            {
                return RingWrite.Closed;
            }

            if (!_freeSlots.TryAcquire())
            {
                return RingWrite.Full;
            }

            _items.Enqueue(item);
        }

        HandoffCompletion.CommitObserver?.Invoke(this);
        _filledSlots.Release();
        return RingWrite.Written;
    }

    /// <summary>
    /// Writes in a drop mode: takes a free slot if there is one, else applies the mode, all under the ring's lock.
    /// Returns <see langword="false"/> when the handoff is completed.
    /// </summary>
    private bool WriteDropping(T item)
    {
        T? dropped = default;
        bool hasDropped = false;
        bool enqueued = false;
        using (EnterRing())
        {
            if (_doneWriting is not null)
            {
                return false;
            }

            if (_freeSlots.TryAcquire())
            {
                EnqueueDroppingWriteLocked(item);
                enqueued = true;
            }
            else
            {
                Debug.Assert(_items.IsFull, "In the drop modes a free slot is missing only when the ring is full.");
                hasDropped = true;
                dropped = _fullMode switch
                {
                    BoundedChannelFullMode.DropWrite => item,
                    BoundedChannelFullMode.DropNewest => _items.ReplaceNewest(item),
                    _ => DropOldestLocked(item),
                };
                Interlocked.Increment(ref _dropped);
            }
        }

        if (enqueued)
        {
            HandoffCompletion.CommitObserver?.Invoke(this);
            PublishDroppingWrite();
        }
        else if (hasDropped)
        {
            _itemDropped?.Invoke(dropped!);
        }

        return true;
    }

    /// <summary>Replaces the oldest item with <paramref name="item"/>; the number of items, and so of filled-slot permits, is unchanged.</summary>
    private T DropOldestLocked(T item)
    {
        T oldest = _items.Dequeue();
        _items.Enqueue(item);
        return oldest;
    }

    /// <summary>
    /// Reads without waiting: under the ring's lock, takes a filled slot, dequeues and gives the slot back as a free one
    /// (or to the oldest parked writer). Returns <see langword="false"/> when no filled slot is left, or when the ring is
    /// empty although one was (a permit of the reserve completion releases, which is then returned).
    /// </summary>
    /// <remarks>As in <see cref="TryWriteInRing"/>, only the lock's holder takes filled slots: readers contend for the lock alone.</remarks>
    private bool TryReadInRing([MaybeNullWhen(false)] out T item)
    {
        bool drained;
        BlockedWriter? moved = null;
        using (EnterRing())
        {
            if (!_filledSlots.TryAcquire())
            {
                item = default;
                return false;
            }

            if (_items.Count == 0)
            {
                _filledSlots.Release();
                item = default;
                return false;
            }

            item = _items.Dequeue();

            // In the drop modes the free slots must match the ring exactly, so a write drops only when it is full; in
            // Wait mode the freed slot goes to the oldest parked writer, whose item moves in now, or back as a permit.
            if (_fullMode != BoundedChannelFullMode.Wait || (moved = TryMoveBlockedWriterLocked()) is null)
            {
                _freeSlots.Release();
            }

            drained = _items.Count == 0 && _doneWriting is not null;
        }

        if (moved is not null)
        {
            _filledSlots.Release();
            moved.Delivery.Set();
        }

        SignalIfDrained(drained);
        return true;
    }

    /// <summary>
    /// In a drop mode, with the ring's lock held: puts <paramref name="item"/> in the ring, counted as unpublished until its filled
    /// slot is released (<see cref="PublishDroppingWrite"/>, after the lock), so that <c>Count</c> and <c>TryPeek</c> never show an
    /// item a reader cannot take yet while still counting every item that takes up a slot (a write drops only when the ring is full).
    /// </summary>
    private void EnqueueDroppingWriteLocked(T item)
    {
        // Counted before it is in the ring: Count, read without the lock, may then miss it for a moment, never show it early.
        Interlocked.Increment(ref _items.Unpublished);
        _items.Enqueue(item);
    }

    /// <summary>Releases the filled slot of an item put in the ring by <see cref="EnqueueDroppingWriteLocked"/>: a reader can take it now.</summary>
    private void PublishDroppingWrite()
    {
        _filledSlots.Release();
        Interlocked.Decrement(ref _items.Unpublished);
    }

    /// <summary>
    /// The items a reader can see, <c>Count</c>: never one whose filled slot is not released yet (a writer releases it just after the
    /// ring's lock, and <c>TryRead</c> takes an item only with its slot). In <see cref="BoundedChannelFullMode.Wait"/> mode that is the
    /// filled slots not taken (an item a reader holds the slot of is that reader's), read from the semaphore alone so that the hot
    /// path pays nothing for it; after completion, whose reserve of slots would count too, the ring's count. In a drop mode, where a
    /// writer deciding whether to drop must see every item that takes up a slot, the ring's count less the unpublished items.
    /// </summary>
    private int VisibleCount => _fullMode == BoundedChannelFullMode.Wait
        ? Math.Min(_items.Count, _filledSlots.CurrentCount)
        : Math.Max(0, _items.Count - Volatile.Read(ref _items.Unpublished));

    /// <summary>
    /// Before a reader parks: with nobody parked on either side (so the writers are running, or about to run once
    /// woken), spins briefly for a filled slot (<see cref="HandoffSpin"/>). Returns <see langword="true"/> when one came
    /// or the handoff was completed; everything here is read without a lock, as a hint.
    /// </summary>
    private bool SpinForItem() =>
        _readerSpin.IsEnabled && NobodyParked() && HandoffSpin.Until(ref _readerSpin, this, static channel => channel._filledSlots.CurrentCount > 0 || channel._doneWriting is not null);

    /// <summary>
    /// Before a writer parks its item (<see cref="BoundedChannelFullMode.Wait"/>): with nobody parked on either side,
    /// spins briefly for a free slot. Returns <see langword="true"/> when one came or the handoff was completed.
    /// </summary>
    private bool SpinForRoom() =>
        _writerSpin.IsEnabled && NobodyParked() && HandoffSpin.Until(ref _writerSpin, this, static channel => channel._freeSlots.CurrentCount > 0 || channel._doneWriting is not null);

    /// <summary>
    /// Whether no reader waits for a filled slot and no writer is parked or waits for a free one: a parked reader is
    /// woken by the next write, and a parked writer is ahead of this one, so a spinner would only take what they are
    /// woken for.
    /// </summary>
    private bool NobodyParked() =>
        _filledSlots.WaitingCount == 0 && _freeSlots.WaitingCount == 0 && Volatile.Read(ref _blockedHead) is null;

    /// <summary>Takes the ring's lock for a short critical section (<see cref="HandoffLock.Enter"/>), released when the returned scope is disposed.</summary>
    private RingScope EnterRing()
    {
        HandoffLock.Enter(_ringLock);
        return new RingScope(_ringLock);
    }

    /// <summary>Holds the ring's lock until disposed.</summary>
    private readonly ref struct RingScope(ExclusiveLock held)
    {
        public void Dispose() => held.Release();
    }

    private void ThrowIfDoneWriting()
    {
        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            throw HandoffCompletion.CreateClosedException(doneWriting);
        }
    }
}
