using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Pipeline.Primitives;

namespace Pipeline.Handoffs;

/// <summary>
/// A bounded handoff built on one <see cref="ExclusiveLock"/> and two <see cref="Condition"/>s over a ring buffer:
/// readers wait on "not empty", writers on "not full". Usable through <see cref="Channel{T}"/> (asynchronous) and
/// <see cref="IBlockingHandoff{T}"/> (blocking, for stages on dedicated threads), by any number of readers and writers.
/// </summary>
/// <remarks>
/// Cancellation is exact: a write that throws <see cref="OperationCanceledException"/> did not deliver its item, and a
/// read that throws took none. Completing the handoff wakes every waiting reader and writer, blocking or asynchronous.
/// A dropped item (drop modes of <see cref="BoundedChannelFullMode"/>) is counted in <see cref="Dropped"/> and passed to
/// the item-dropped callback, which runs on the writing thread outside the handoff's lock.
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
[DebuggerDisplay("Count = {Reader.Count}, Capacity = {Capacity}")]
public sealed partial class ConditionChannel<T> : Channel<T>, IBlockingHandoff<T>
{
    /// <summary>Guards <see cref="_items"/>, <see cref="_doneWriting"/> and both conditions.</summary>
    private readonly ExclusiveLock _lock = new();

    /// <summary>How many rounds of <see cref="SpinWait"/> a blocking caller spins and yields before queueing on the lock.</summary>
    private const int LockSpinLimit = 50;

    /// <summary>How many rounds of <see cref="SpinWait"/> a caller spins and yields before waiting on a condition.</summary>
    private const int WaitSpinLimit = 20;

    /// <summary>Signalled when an item is written or the handoff is completed; readers wait on it.</summary>
    private readonly Condition _notEmpty;

    /// <summary>Signalled when an item is taken (in <see cref="BoundedChannelFullMode.Wait"/> mode) or the handoff is completed; writers wait on it.</summary>
    private readonly Condition _notFull;

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

    /// <summary>How many items were dropped; written under the lock, read anywhere.</summary>
    private long _dropped;

    /// <summary>Creates a handoff of the given capacity and full mode.</summary>
    /// <param name="capacity">How many items the handoff holds, 1 to 1,048,576.</param>
    /// <param name="fullMode">What a write into a full handoff does.</param>
    /// <param name="itemDropped">Called with each item that a drop mode discards; may be <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="capacity"/> is outside 1 to 1,048,576, or <paramref name="fullMode"/> is not a defined value.</exception>
    public ConditionChannel(int capacity, BoundedChannelFullMode fullMode = BoundedChannelFullMode.Wait, Action<T>? itemDropped = null)
    {
        HandoffCompletion.ValidateArguments(capacity, fullMode);
        _items = new RingBuffer<T>(capacity);
        _fullMode = fullMode;
        _itemDropped = itemDropped;
        _notEmpty = new Condition(_lock);
        _notFull = new Condition(_lock);
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

    /// <inheritdoc/>
    public void Write(T item, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SpinUntilWritable();
        AcquireLock(cancellationToken);
        T? dropped;
        bool hasDropped;
        try
        {
            while (true)
            {
                ThrowIfDoneWriting();
                if (TryEnqueueLocked(item, out dropped, out hasDropped))
                {
                    break;
                }

                _notFull.Wait(cancellationToken);
            }
        }
        finally
        {
            _lock.Release();
        }

        ReportDropped(hasDropped, dropped);
    }

    /// <inheritdoc/>
    public bool TryWrite(T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        long started = Stopwatch.GetTimestamp();
        if (!_lock.TryAcquire(timeout, cancellationToken))
        {
            return false;
        }

        T? dropped;
        bool hasDropped;
        bool written;
        try
        {
            bool timedOut = false;
            while (true)
            {
                ThrowIfDoneWriting();
                if (written = TryEnqueueLocked(item, out dropped, out hasDropped))
                {
                    break;
                }

                if (timedOut)
                {
                    break;
                }

                timedOut = !_notFull.Wait(Remaining(started, timeout), cancellationToken);
            }
        }
        finally
        {
            _lock.Release();
        }

        ReportDropped(hasDropped, dropped);
        return written;
    }

    /// <inheritdoc/>
    public T Read(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SpinUntilReadable();
        AcquireLock(cancellationToken);
        T? item;
        bool drained;
        try
        {
            while (!TryDequeueLocked(out item, out drained))
            {
                ThrowIfDoneWriting();
                _notEmpty.Wait(cancellationToken);
            }
        }
        finally
        {
            _lock.Release();
        }

        SignalIfDrained(drained);
        return item;
    }

    /// <inheritdoc/>
    public bool TryRead([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        long started = Stopwatch.GetTimestamp();
        if (!_lock.TryAcquire(timeout, cancellationToken))
        {
            item = default;
            return false;
        }

        bool taken;
        bool drained;
        try
        {
            bool timedOut = false;
            while (!(taken = TryDequeueLocked(out item, out drained)))
            {
                ThrowIfDoneWriting();
                if (timedOut)
                {
                    break;
                }

                timedOut = !_notEmpty.Wait(Remaining(started, timeout), cancellationToken);
            }
        }
        finally
        {
            _lock.Release();
        }

        SignalIfDrained(drained);
        return taken;
    }

    internal static void ValidateTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "timeout must be non-negative or Timeout.InfiniteTimeSpan.");
        }
    }

    internal static TimeSpan Remaining(long started, TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return timeout;
        }

        TimeSpan remaining = timeout - Stopwatch.GetElapsedTime(started);
        return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
    }

    private bool TryWriteCore(T item)
    {
        if (_doneWriting is not null)
        {
            return false;
        }

        AcquireLock(CancellationToken.None);
        T? dropped;
        bool hasDropped;
        bool written;
        try
        {
            if (_doneWriting is not null)
            {
                return false;
            }

            written = TryEnqueueLocked(item, out dropped, out hasDropped);
        }
        finally
        {
            _lock.Release();
        }

        ReportDropped(hasDropped, dropped);
        return written;
    }

    private ValueTask WriteAsyncCore(T item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        SpinUntilWritable();
        if (!TryAcquireSpinning())
        {
            return WriteAsyncSlow(item, lockHeld: false, cancellationToken);
        }

        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            _lock.Release();
            return ValueTask.FromException(HandoffCompletion.CreateClosedException(doneWriting));
        }

        if (!TryEnqueueLocked(item, out T? dropped, out bool hasDropped))
        {
            return WriteAsyncSlow(item, lockHeld: true, cancellationToken);
        }

        _lock.Release();
        ReportDropped(hasDropped, dropped);
        return default;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsyncSlow(T item, bool lockHeld, CancellationToken cancellationToken)
    {
        if (!lockHeld)
        {
            await _lock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        }

        T? dropped;
        bool hasDropped;
        try
        {
            while (true)
            {
                ThrowIfDoneWriting();
                if (TryEnqueueLocked(item, out dropped, out hasDropped))
                {
                    break;
                }

                await _notFull.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _lock.Release();
        }

        ReportDropped(hasDropped, dropped);
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

        if (_fullMode != BoundedChannelFullMode.Wait || !_items.IsFull)
        {
            return new ValueTask<bool>(true);
        }

        return WaitToWriteAsyncSlow(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToWriteAsyncSlow(CancellationToken cancellationToken)
    {
        await _lock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            bool woken = false;
            while (true)
            {
                Exception? doneWriting = _doneWriting;
                if (doneWriting is not null)
                {
                    return await HandoffCompletion.WaitClosed(doneWriting).ConfigureAwait(false);
                }

                if (!_items.IsFull)
                {
                    if (woken)
                    {
                        // This waiter consumed a notification meant for a writer; pass it on so that a writer
                        // blocked in Write or WriteAsync is not left waiting while there is room.
                        _notFull.Notify();
                    }

                    return true;
                }

                await _notFull.WaitAsync(cancellationToken).ConfigureAwait(false);
                woken = true;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private bool TryReadCore([MaybeNullWhen(false)] out T item)
    {
        if (_items.Count == 0)
        {
            item = default;
            return false;
        }

        AcquireLock(CancellationToken.None);
        bool taken;
        bool drained;
        try
        {
            taken = TryDequeueLocked(out item, out drained);
        }
        finally
        {
            _lock.Release();
        }

        SignalIfDrained(drained);
        return taken;
    }

    private ValueTask<T> ReadAsyncCore(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        SpinUntilReadable();
        if (!TryAcquireSpinning())
        {
            return ReadAsyncSlow(lockHeld: false, cancellationToken);
        }

        if (TryDequeueLocked(out T? item, out bool drained))
        {
            _lock.Release();
            SignalIfDrained(drained);
            return new ValueTask<T>(item);
        }

        Exception? doneWriting = _doneWriting;
        if (doneWriting is not null)
        {
            _lock.Release();
            return ValueTask.FromException<T>(HandoffCompletion.CreateClosedException(doneWriting));
        }

        return ReadAsyncSlow(lockHeld: true, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ReadAsyncSlow(bool lockHeld, CancellationToken cancellationToken)
    {
        if (!lockHeld)
        {
            await _lock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        }

        T? item;
        bool drained;
        try
        {
            while (!TryDequeueLocked(out item, out drained))
            {
                ThrowIfDoneWriting();
                await _notEmpty.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _lock.Release();
        }

        SignalIfDrained(drained);
        return item;
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
        await _lock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            bool woken = false;
            while (true)
            {
                if (_items.Count > 0)
                {
                    if (woken)
                    {
                        // This waiter consumed a notification meant for a reader; pass it on so that a reader
                        // blocked in Read or ReadAsync is not left waiting while there is an item.
                        _notEmpty.Notify();
                    }

                    return true;
                }

                Exception? doneWriting = _doneWriting;
                if (doneWriting is not null)
                {
                    if (ReferenceEquals(doneWriting, HandoffCompletion.DoneWritingSentinel))
                    {
                        return false;
                    }

                    ExceptionDispatchInfo.Throw(doneWriting);
                }

                await _notEmpty.WaitAsync(cancellationToken).ConfigureAwait(false);
                woken = true;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private bool TryPeekCore([MaybeNullWhen(false)] out T item)
    {
        if (_items.Count == 0)
        {
            item = default;
            return false;
        }

        AcquireLock(CancellationToken.None);
        try
        {
            if (_items.Count == 0)
            {
                item = default;
                return false;
            }

            item = _items.PeekOldest();
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    private bool TryCompleteCore(Exception? error)
    {
        bool drained;
        AcquireLock(CancellationToken.None);
        try
        {
            if (_doneWriting is not null)
            {
                return false;
            }

            _doneWriting = error ?? HandoffCompletion.DoneWritingSentinel;
            _notEmpty.NotifyAll();
            _notFull.NotifyAll();
            drained = _items.Count == 0;
        }
        finally
        {
            _lock.Release();
        }

        SignalIfDrained(drained);
        return true;
    }

    /// <summary>
    /// Puts <paramref name="item"/> into the ring if there is room, or applies the full mode. Returns
    /// <see langword="false"/> only when the ring is full in <see cref="BoundedChannelFullMode.Wait"/> mode.
    /// </summary>
    private bool TryEnqueueLocked(T item, out T? dropped, out bool hasDropped)
    {
        AssertInvariants();
        if (!_items.IsFull)
        {
            _items.Enqueue(item);
            _notEmpty.Notify();
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

    /// <summary>Takes the oldest item if there is one; <paramref name="drained"/> tells that this emptied a completed handoff.</summary>
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
        if (_fullMode == BoundedChannelFullMode.Wait)
        {
            _notFull.Notify();
        }

        drained = _items.Count == 0 && _doneWriting is not null;
        return true;
    }

    /// <summary>
    /// Takes the lock, spinning (and yielding) for a while before queueing on it. A queued waiter costs a park and a
    /// wake-up, and once queued it keeps its place at the head of the line (and is eventually handed the lock), so with
    /// critical sections of a few dozen nanoseconds queueing readily turns contention into a convoy.
    /// </summary>
    private void AcquireLock(CancellationToken cancellationToken)
    {
        SpinWait spinner = default;
        while (!_lock.TryAcquire())
        {
            if (spinner.Count >= LockSpinLimit)
            {
                _lock.Acquire(cancellationToken);
                return;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Before waiting for an item, spins (and yields) for a short while until one may be there, without the lock: a
    /// condition wait costs a park and a wake-up of this thread plus a lock hand-off, far more than a short gap
    /// between items.
    /// </summary>
    private void SpinUntilReadable()
    {
        SpinWait spinner = default;
        while (_items.Count == 0 && _doneWriting is null && spinner.Count < WaitSpinLimit)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Before waiting for room, spins (and yields) for a short while until there may be some, without the lock.</summary>
    private void SpinUntilWritable()
    {
        SpinWait spinner = default;
        while (_fullMode == BoundedChannelFullMode.Wait && _items.IsFull && _doneWriting is null && spinner.Count < WaitSpinLimit)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Tries to take the lock, spinning briefly while another thread holds it. A queued asynchronous waiter is woken
    /// through the thread pool, and it keeps its place at the head of the line (and is eventually handed the lock), so
    /// joining that queue for a critical section of a few dozen nanoseconds would turn later acquisitions into
    /// thread-pool hops.
    /// </summary>
    private bool TryAcquireSpinning()
    {
        SpinWait spinner = default;
        while (!_lock.TryAcquire())
        {
            if (spinner.NextSpinWillYield)
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

    private void ReportDropped(bool hasDropped, T? dropped)
    {
        if (hasDropped)
        {
            _itemDropped?.Invoke(dropped!);
        }
    }

    private void SignalIfDrained(bool drained)
    {
        if (drained)
        {
            HandoffCompletion.SignalDrained(_completion, _doneWriting!);
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_lock.IsLocked, "Invariants can only be checked while holding the lock.");
        Debug.Assert(_items.Count <= _items.Capacity, "The ring holds more than its capacity.");
    }
}
