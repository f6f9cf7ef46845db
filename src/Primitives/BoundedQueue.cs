using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>
/// A first-in, first-out queue of bounded capacity, like Python's <c>queue.Queue</c>: puts wait while it is full,
/// takes wait while it is empty; <see cref="TaskDone"/> and <see cref="Join"/> track work on taken items; and
/// <see cref="Shutdown"/> / <see cref="ShutdownNow"/> end it without losing sight of any item.
/// </summary>
/// <remarks>
/// Built as Python builds it: one <see cref="ExclusiveLock"/> and three <see cref="Condition"/>s on it
/// (not-empty, not-full, all-done). The lock is only ever taken by a running caller (<see cref="ExclusiveLock.AcquireBarging"/>,
/// <see cref="ExclusiveLock.AcquireBargingAsync"/>; a notified waiter takes it back itself once running), so the calls that do
/// not wait (<see cref="TryPut(T)"/>, <see cref="TryTake(out T)"/>, <see cref="TaskDone"/>, <see cref="Shutdown"/>,
/// <see cref="ShutdownNow"/>) wait at most for another running caller's critical section, never for a thread or continuation
/// that has not been scheduled, as CPython's <c>put_nowait</c> and <c>get_nowait</c> wait only for a running holder. After <see cref="Shutdown"/>, puts throw <see cref="QueueShutDownException"/>
/// and takers receive the remaining items, then throw it. <see cref="ShutdownNow"/> also returns the items not yet
/// taken. A cancelled put did not enqueue its item and a cancelled take took none.
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
public sealed partial class BoundedQueue<T>
{
    /// <summary>Guards every field below.</summary>
    private readonly ExclusiveLock _lock = new();

    /// <summary>Signalled when an item is added or the queue shuts down.</summary>
    private readonly Condition _notEmpty;

    /// <summary>Signalled when an item is taken or the queue shuts down.</summary>
    private readonly Condition _notFull;

    /// <summary>Signalled when the count of unfinished items reaches 0.</summary>
    private readonly Condition _allDone;

    /// <summary>The ring buffer.</summary>
    private readonly T[] _items;

    /// <summary>Index of the oldest item in <see cref="_items"/>.</summary>
    private int _head;

    /// <summary>Number of items in the ring; written under the lock.</summary>
    private int _count;

    /// <summary>Items taken and not yet marked done with <see cref="TaskDone"/>. Unfinished items are these and the queued ones.</summary>
    private int _takenNotDone;

    /// <summary>Set once by <see cref="Shutdown"/> or <see cref="ShutdownNow"/>.</summary>
    private volatile bool _isShutdown;

    /// <summary>Initializes a new, empty instance.</summary>
    /// <param name="capacity">How many items the queue holds before puts wait; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="capacity"/> is less than 1.</exception>
    public BoundedQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new T[capacity];
        _notEmpty = new Condition(_lock);
        _notFull = new Condition(_lock);
        _allDone = new Condition(_lock);
    }

    /// <summary>Gets how many items the queue holds before puts wait.</summary>
    public int Capacity => _items.Length;

    /// <summary>Gets the number of items in the queue (a snapshot).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gets a value indicating whether the queue was shut down.</summary>
    public bool IsShutdown => _isShutdown;

    /// <summary>Adds an item, blocking the calling thread while the queue is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the wait; the item is then not added.</param>
    /// <exception cref="QueueShutDownException">Thrown when the queue is shut down.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the item is added.</exception>
    public void Put(T item, CancellationToken cancellationToken = default) =>
        TryPutCore(item, Timeouts.Infinite, cancellationToken);

    /// <summary>Adds an item if there is room, without waiting.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="true"/> if the item was added; <see langword="false"/> if the queue is full.</returns>
    /// <exception cref="QueueShutDownException">Thrown when the queue is shut down.</exception>
    public bool TryPut(T item) => TryPutCore(item, 0, CancellationToken.None);

    /// <summary>Adds an item, blocking the calling thread for at most <paramref name="timeout"/> while the queue is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the item is then not added.</param>
    /// <returns><see langword="true"/> if the item was added; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="QueueShutDownException">Thrown when the queue is shut down.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the item is added.</exception>
    public bool TryPut(T item, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryPutCore(item, Timeouts.ToMilliseconds(timeout, nameof(timeout)), cancellationToken);

    /// <summary>Adds an item asynchronously, waiting while the queue is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the wait; the item is then not added.</param>
    /// <returns>A task that completes when the item is added; synchronously when there is room at once.</returns>
    /// <exception cref="QueueShutDownException">Thrown when the queue is shut down.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the item is added.</exception>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_lock.TryAcquire())
        {
            try
            {
                if (_isShutdown)
                {
                    return ValueTask.FromException(new QueueShutDownException());
                }

                if (_count < _items.Length)
                {
                    EnqueueLocked(item);
                    return default;
                }
            }
            finally
            {
                _lock.Release();
            }
        }

        return PutAsyncSlow(item, cancellationToken);
    }

    /// <summary>Removes and returns the oldest item, blocking the calling thread while the queue is empty.</summary>
    /// <param name="cancellationToken">Cancels the wait; no item is then taken.</param>
    /// <returns>The oldest item.</returns>
    /// <exception cref="QueueShutDownException">Thrown when the queue is shut down and empty.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before an item is taken.</exception>
    public T Take(CancellationToken cancellationToken = default)
    {
        TryTakeCore(out var item, Timeouts.Infinite, cancellationToken);
        return item!;
    }

    /// <summary>Removes the oldest item if there is one, without waiting.</summary>
    /// <param name="item">The oldest item, when one was taken.</param>
    /// <returns><see langword="true"/> if an item was taken; <see langword="false"/> if the queue is empty.</returns>
    /// <exception cref="QueueShutDownException">Thrown when the queue is shut down and empty.</exception>
    public bool TryTake([MaybeNullWhen(false)] out T item) => TryTakeCore(out item, 0, CancellationToken.None);

    /// <summary>Removes the oldest item, blocking the calling thread for at most <paramref name="timeout"/> while the queue is empty.</summary>
    /// <param name="item">The oldest item, when one was taken.</param>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; no item is then taken.</param>
    /// <returns><see langword="true"/> if an item was taken; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="QueueShutDownException">Thrown when the queue is shut down and empty.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before an item is taken.</exception>
    public bool TryTake([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryTakeCore(out item, Timeouts.ToMilliseconds(timeout, nameof(timeout)), cancellationToken);

    /// <summary>Removes and returns the oldest item asynchronously, waiting while the queue is empty.</summary>
    /// <param name="cancellationToken">Cancels the wait; no item is then taken.</param>
    /// <returns>The oldest item; synchronously when one is there at once.</returns>
    /// <exception cref="QueueShutDownException">Thrown when the queue is shut down and empty.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before an item is taken.</exception>
    public ValueTask<T> TakeAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (_lock.TryAcquire())
        {
            try
            {
                if (_count > 0)
                {
                    return new ValueTask<T>(DequeueLocked());
                }

                if (_isShutdown)
                {
                    return ValueTask.FromException<T>(new QueueShutDownException());
                }
            }
            finally
            {
                _lock.Release();
            }
        }

        return TakeAsyncSlow(cancellationToken);
    }

    private bool TryPutCore(T item, long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        _lock.AcquireBarging(cancellationToken);
        try
        {
            var deadline = Timeouts.Deadline(timeoutMilliseconds);
            while (true)
            {
                if (_isShutdown)
                {
                    throw new QueueShutDownException();
                }

                if (_count < _items.Length)
                {
                    break;
                }

                var remaining = Timeouts.Remaining(deadline);
                if (remaining == 0)
                {
                    return false;
                }

                WaitLocked(_notFull, remaining, cancellationToken);
            }

            EnqueueLocked(item);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    private bool TryTakeCore([MaybeNullWhen(false)] out T item, long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        _lock.AcquireBarging(cancellationToken);
        try
        {
            var deadline = Timeouts.Deadline(timeoutMilliseconds);
            while (_count == 0)
            {
                if (_isShutdown)
                {
                    throw new QueueShutDownException();
                }

                var remaining = Timeouts.Remaining(deadline);
                if (remaining == 0)
                {
                    item = default;
                    return false;
                }

                WaitLocked(_notEmpty, remaining, cancellationToken);
            }

            item = DequeueLocked();
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PutAsyncSlow(T item, CancellationToken cancellationToken)
    {
        await _lock.AcquireBargingAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                if (_isShutdown)
                {
                    throw new QueueShutDownException();
                }

                if (_count < _items.Length)
                {
                    break;
                }

                await WaitLockedAsync(_notFull, cancellationToken).ConfigureAwait(false);
            }

            EnqueueLocked(item);
        }
        finally
        {
            _lock.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> TakeAsyncSlow(CancellationToken cancellationToken)
    {
        await _lock.AcquireBargingAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (_count == 0)
            {
                if (_isShutdown)
                {
                    throw new QueueShutDownException();
                }

                await WaitLockedAsync(_notEmpty, cancellationToken).ConfigureAwait(false);
            }

            return DequeueLocked();
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Waits on <paramref name="condition"/> as <see cref="Condition.Wait(TimeSpan, CancellationToken)"/> does, but takes the
    /// lock back with <see cref="ExclusiveLock.AcquireBarging"/>, once running: the lock is never handed to a caller that is
    /// not running, so a <see cref="TryPut(T)"/>, <see cref="TryTake(out T)"/>, <see cref="TaskDone"/> or shutdown waits at
    /// most for a running caller's critical section. Every exit holds the lock again, cancellation included.
    /// </summary>
    private void WaitLocked(Condition condition, long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        try
        {
            condition.ReleaseAndWait(TimeSpan.FromMilliseconds(timeoutMilliseconds), cancellationToken);
        }
        finally
        {
            _lock.AcquireBarging(CancellationToken.None);
        }
    }

    /// <summary>The asynchronous form of <see cref="WaitLocked"/>, with no timeout.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitLockedAsync(Condition condition, CancellationToken cancellationToken)
    {
        try
        {
            await condition.ReleaseAndWaitAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await _lock.AcquireBargingAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private void EnqueueLocked(T item)
    {
        Debug.Assert(_lock.IsLocked && _count < _items.Length, "Enqueue needs the lock and room.");
        var tail = _head + _count;
        if (tail >= _items.Length)
        {
            tail -= _items.Length;
        }

        _items[tail] = item;
        Volatile.Write(ref _count, _count + 1);
        _notEmpty.Notify();
    }

    private T DequeueLocked()
    {
        var item = TakeFromRingLocked();
        _takenNotDone++;
        _notFull.Notify();
        return item;
    }

    private T TakeFromRingLocked()
    {
        Debug.Assert(_lock.IsLocked && _count > 0, "Dequeue needs the lock and an item.");
        var item = _items[_head];
        _items[_head] = default!;
        if (++_head == _items.Length)
        {
            _head = 0;
        }

        Volatile.Write(ref _count, _count - 1);
        return item;
    }
}
