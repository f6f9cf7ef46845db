using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Pipeline.Primitives;

namespace Pipeline.Handoffs;

/// <summary>
/// A bounded handoff built on two semaphores over a ring buffer: a <see cref="BoundedSemaphore"/> counts free slots
/// (writers acquire one), a <see cref="CountingSemaphore"/> counts filled slots (readers acquire one), and a short
/// critical section guards the ring itself. Usable through <see cref="Channel{T}"/> (asynchronous) and
/// <see cref="IBlockingHandoff{T}"/> (blocking, for stages on dedicated threads), by any number of readers and writers.
/// </summary>
/// <remarks>
/// Cancellation is exact: a write that throws <see cref="OperationCanceledException"/> did not deliver its item, and a
/// read that throws took none, because a cancelled semaphore wait takes no permit. Completing the handoff releases a
/// large reserve of permits on both semaphores, which wakes every waiting reader and writer, blocking or asynchronous;
/// each of them then finds the handoff completed. A dropped item (drop modes of <see cref="BoundedChannelFullMode"/>) is
/// counted in <see cref="Dropped"/> and passed to the item-dropped callback, which runs on the writing thread outside the
/// ring's lock. In the drop modes the handoff counts as full when no free-slot permit is available.
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

    /// <summary>How many rounds of <see cref="SpinWait"/> an asynchronous caller spins and yields before waiting on a semaphore.</summary>
    private const int WaitSpinLimit = 20;

    /// <summary>
    /// How many rounds of <see cref="SpinWait"/> (mostly yields, about a hundred microseconds) a blocking caller spins
    /// before parking on a semaphore. A parked thread is granted the next permit and holds it until the scheduler runs
    /// it again, and every release into a semaphore with a parked waiter takes the semaphore's slow path; with a
    /// shorter spin a blocking producer and consumer kept parking each other (120-380 ns/item instead of about 60).
    /// A dedicated thread can afford the spin.
    /// </summary>
    private const int BlockingSpinLimit = 200;

    /// <summary>
    /// Free slots: capacity minus the items in the ring, minus the slots held by writers about to enqueue and by readers
    /// that have dequeued but not yet given their slot back. Its bound is the capacity plus <see cref="CompletionReserve"/>.
    /// </summary>
    private readonly BoundedSemaphore _freeSlots;

    /// <summary>Filled slots: one permit per item in the ring that no reader has claimed yet (plus the reserve once completed).</summary>
    private readonly CountingSemaphore _filledSlots = new(0);

    /// <summary>Guards <see cref="_items"/> and the transition of <see cref="_doneWriting"/>; never held across a wait.</summary>
    private readonly Lock _ringLock = new();

    /// <summary>The buffered items.</summary>
    private readonly RingBuffer<T> _items;

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

    /// <summary>Creates a handoff of the given capacity and full mode.</summary>
    /// <param name="capacity">How many items the handoff holds, 1 to 1,048,576.</param>
    /// <param name="fullMode">What a write into a full handoff does.</param>
    /// <param name="itemDropped">Called with each item that a drop mode discards; may be <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="capacity"/> is outside 1 to 1,048,576, or <paramref name="fullMode"/> is not a defined value.</exception>
    public SemaphoreChannel(int capacity, BoundedChannelFullMode fullMode = BoundedChannelFullMode.Wait, Action<T>? itemDropped = null)
    {
        HandoffCompletion.ValidateArguments(capacity, fullMode);
        _items = new RingBuffer<T>(capacity);
        _fullMode = fullMode;
        _itemDropped = itemDropped;
        _freeSlots = new BoundedSemaphore(capacity, capacity + CompletionReserve);
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

    /// <inheritdoc/>
    public void Write(T item, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDoneWriting();
        if (_fullMode != BoundedChannelFullMode.Wait)
        {
            WriteDroppingOrThrow(item);
            return;
        }

        SpinWhileNoPermit(_freeSlots);
        _freeSlots.Acquire(cancellationToken);
        CommitWriteOrThrow(item);
    }

    /// <inheritdoc/>
    public bool TryWrite(T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ConditionChannel<T>.ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDoneWriting();
        if (_fullMode != BoundedChannelFullMode.Wait)
        {
            WriteDroppingOrThrow(item);
            return true;
        }

        if (!_freeSlots.TryAcquire(timeout, cancellationToken))
        {
            return false;
        }

        CommitWriteOrThrow(item);
        return true;
    }

    /// <inheritdoc/>
    public T Read(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SpinWhileNoPermit(_filledSlots);
        _filledSlots.Acquire(cancellationToken);
        return CommitReadOrThrow();
    }

    /// <inheritdoc/>
    public bool TryRead([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ConditionChannel<T>.ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_filledSlots.TryAcquire(timeout, cancellationToken))
        {
            item = default;
            return false;
        }

        item = CommitReadOrThrow();
        return true;
    }

    private bool TryWriteCore(T item)
    {
        if (_doneWriting is not null)
        {
            return false;
        }

        if (_fullMode != BoundedChannelFullMode.Wait)
        {
            return TryWriteDropping(item);
        }

        return _freeSlots.TryAcquire() && CommitWrite(item);
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
                if (TryWriteDropping(item))
                {
                    return default;
                }
            }
            else if (TryAcquireSpinning(_freeSlots))
            {
                if (CommitWrite(item))
                {
                    return default;
                }
            }
            else
            {
                return WriteAsyncSlow(item, cancellationToken);
            }

            doneWriting = _doneWriting!;
        }

        return ValueTask.FromException(HandoffCompletion.CreateClosedException(doneWriting));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsyncSlow(T item, CancellationToken cancellationToken)
    {
        await _freeSlots.AcquireAsync(cancellationToken).ConfigureAwait(false);
        CommitWriteOrThrow(item);
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
            return new ValueTask<bool>(true);
        }

        return WaitToWriteAsyncSlow(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToWriteAsyncSlow(CancellationToken cancellationToken)
    {
        // Take a free slot to learn that there is one, then give it back: waiting must not reserve room.
        await _freeSlots.AcquireAsync(cancellationToken).ConfigureAwait(false);
        _freeSlots.Release();
        Exception? doneWriting = _doneWriting;
        return doneWriting is null || await HandoffCompletion.WaitClosed(doneWriting).ConfigureAwait(false);
    }

    private bool TryReadCore([MaybeNullWhen(false)] out T item)
    {
        if (!_filledSlots.TryAcquire())
        {
            item = default;
            return false;
        }

        return CommitRead(out item);
    }

    private ValueTask<T> ReadAsyncCore(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (!TryAcquireSpinning(_filledSlots))
        {
            return ReadAsyncSlow(cancellationToken);
        }

        return CommitRead(out T? item)
            ? new ValueTask<T>(item)
            : ValueTask.FromException<T>(HandoffCompletion.CreateClosedException(_doneWriting!));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ReadAsyncSlow(CancellationToken cancellationToken)
    {
        await _filledSlots.AcquireAsync(cancellationToken).ConfigureAwait(false);
        return CommitReadOrThrow();
    }

    private ValueTask<bool> WaitToReadAsyncCore(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (_items.Count > 0)
        {
            return new ValueTask<bool>(true);
        }

        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            return _items.Count > 0 ? new ValueTask<bool>(true) : HandoffCompletion.WaitClosed(doneWriting);
        }

        return WaitToReadAsyncSlow(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToReadAsyncSlow(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Take a filled slot to learn that there is an item, then give it back: waiting must not claim the item.
            await _filledSlots.AcquireAsync(cancellationToken).ConfigureAwait(false);
            _filledSlots.Release();
            if (_items.Count > 0)
            {
                return true;
            }

            Exception? doneWriting = _doneWriting;
            if (doneWriting is not null)
            {
                return await HandoffCompletion.WaitClosed(doneWriting).ConfigureAwait(false);
            }
        }
    }

    private bool TryPeekCore([MaybeNullWhen(false)] out T item)
    {
        lock (_ringLock)
        {
            if (_items.Count == 0)
            {
                item = default;
                return false;
            }

            item = _items.PeekOldest();
            return true;
        }
    }

    private bool TryCompleteCore(Exception? error)
    {
        bool drained;
        lock (_ringLock)
        {
            if (_doneWriting is not null)
            {
                return false;
            }

            _doneWriting = error ?? HandoffCompletion.DoneWritingSentinel;
            drained = _items.Count == 0;
        }

        _filledSlots.Release(CompletionReserve);
        _freeSlots.Release(CompletionReserve);
        SignalIfDrained(drained);
        return true;
    }

    /// <summary>With a free slot held: enqueues the item, or gives the slot back when the handoff is completed.</summary>
    private bool CommitWrite(T item)
    {
        bool written = false;
        lock (_ringLock)
        {
            if (_doneWriting is null)
            {
                Debug.Assert(!_items.IsFull, "A free slot is held, so the ring cannot be full.");
                _items.Enqueue(item);
                written = true;
            }
        }

        if (written)
        {
            _filledSlots.Release();
        }
        else
        {
            _freeSlots.Release();
        }

        return written;
    }

    private void CommitWriteOrThrow(T item)
    {
        if (!CommitWrite(item))
        {
            throw HandoffCompletion.CreateClosedException(_doneWriting!);
        }
    }

    /// <summary>
    /// In a drop mode, never waits: takes a free slot if there is one, otherwise drops per the mode. Returns
    /// <see langword="false"/> only when the handoff is completed.
    /// </summary>
    private bool TryWriteDropping(T item)
    {
        SpinWait spinner = default;
        while (true)
        {
            if (_freeSlots.TryAcquire())
            {
                return CommitWrite(item);
            }

            T? dropped = default;
            bool hasDropped = false;
            lock (_ringLock)
            {
                if (_doneWriting is not null)
                {
                    return false;
                }

                if (_fullMode == BoundedChannelFullMode.DropWrite)
                {
                    dropped = item;
                    hasDropped = true;
                }
                else if (_items.Count > 0)
                {
                    // Replacing keeps the number of items, so neither semaphore changes.
                    if (_fullMode == BoundedChannelFullMode.DropNewest)
                    {
                        dropped = _items.ReplaceNewest(item);
                    }
                    else
                    {
                        dropped = _items.Dequeue();
                        _items.Enqueue(item);
                    }

                    hasDropped = true;
                }
            }

            if (hasDropped)
            {
                Interlocked.Increment(ref _dropped);
                _itemDropped?.Invoke(dropped!);
                return true;
            }

            // Every slot is held by a writer about to enqueue or a reader about to give its slot back; both finish
            // without waiting, so spin until one does.
            spinner.SpinOnce();
        }
    }

    private void WriteDroppingOrThrow(T item)
    {
        if (!TryWriteDropping(item))
        {
            throw HandoffCompletion.CreateClosedException(_doneWriting!);
        }
    }

    /// <summary>
    /// With a filled slot held: dequeues the oldest item. Returns <see langword="false"/> when the ring is empty, which
    /// happens only once the handoff is completed (the slot was one of the completion reserve).
    /// </summary>
    private bool CommitRead([MaybeNullWhen(false)] out T item)
    {
        bool drained;
        lock (_ringLock)
        {
            if (_items.Count == 0)
            {
                Debug.Assert(_doneWriting is not null, "A filled slot is held, so the ring cannot be empty before completion.");
                item = default;
                return false;
            }

            item = _items.Dequeue();
            drained = _items.Count == 0 && _doneWriting is not null;
        }

        _freeSlots.Release();
        SignalIfDrained(drained);
        return true;
    }

    private T CommitReadOrThrow()
    {
        if (!CommitRead(out T? item))
        {
            throw HandoffCompletion.CreateClosedException(_doneWriting!);
        }

        return item;
    }

    /// <summary>
    /// Before a blocking wait for a permit, spins (and yields) for a short while until one may be free: parking the
    /// thread and waking it again costs far more than a short gap between items.
    /// </summary>
    private static void SpinWhileNoPermit(CountingSemaphore slots)
    {
        SpinWait spinner = default;
        while (slots.CurrentCount == 0 && spinner.Count < BlockingSpinLimit)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Tries to take a permit, spinning (and yielding) for a short while when none is free, before an asynchronous wait
    /// whose continuation would cost a thread-pool hop.
    /// </summary>
    private static bool TryAcquireSpinning(CountingSemaphore slots)
    {
        SpinWait spinner = default;
        while (!slots.TryAcquire())
        {
            if (spinner.Count >= WaitSpinLimit)
            {
                return false;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }

        return true;
    }

    private void ThrowIfDoneWriting()
    {
        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            throw HandoffCompletion.CreateClosedException(doneWriting);
        }
    }

    private void SignalIfDrained(bool drained)
    {
        if (drained)
        {
            HandoffCompletion.SignalDrained(_completion, _doneWriting!);
        }
    }
}
