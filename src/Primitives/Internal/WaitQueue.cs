namespace Pipeline.Primitives.Internal;

/// <summary>
/// A FIFO queue of <see cref="Waiter"/>s with a pool of reusable nodes, guarded by one lock. Every primitive keeps
/// its slow-path state under <see cref="Sync"/> together with its queue.
/// </summary>
internal sealed class WaitQueue
{
    private const int MaxPooledWaiters = 64;

    /// <summary>Passed as the first-arrival time of a waiter whose queue never looks at it: no clock read.</summary>
    private const long Untimed = -1;

    private readonly IWaitQueueOwner? _owner;

    /// <summary>Oldest queued waiter, or null when none waits.</summary>
    private Waiter? _head;

    /// <summary>Newest queued waiter, or null when none waits.</summary>
    private Waiter? _tail;

    /// <summary>Number of queued waiters; written under the lock, readable without it as a hint.</summary>
    private int _count;

    /// <summary>Free nodes linked through <see cref="Waiter.Next"/>.</summary>
    private Waiter? _pool;

    /// <summary>Number of nodes in <see cref="_pool"/>.</summary>
    private int _poolCount;

    /// <summary>One free node returned without taking the lock; the next <see cref="Enqueue(bool, bool, long)"/> uses it first.</summary>
    private Waiter? _spare;

    public WaitQueue(IWaitQueueOwner? owner) => _owner = owner;

    /// <summary>Gets the lock that guards the queue and its owner's slow-path state.</summary>
    public Lock Sync { get; } = new();

    /// <summary>Gets the number of queued waiters (a volatile read; exact only under <see cref="Sync"/>).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gets the oldest queued waiter. Call under <see cref="Sync"/>.</summary>
    public Waiter? Head => _head;

    /// <summary>Rents a node, prepares it and links it at the tail. Call under <see cref="Sync"/>.</summary>
    /// <remarks>The node's <see cref="Waiter.QueuedSince"/> is left 0: only a queue that orders or hands over by waiting time needs the clock read.</remarks>
    public Waiter Enqueue(bool isSync) => Enqueue(isSync, atHead: false, queuedSince: Untimed);

    /// <summary>
    /// Rents a node, prepares it and links it at the tail, or, for a caller that was woken and lost the race for the
    /// resource, back in its place by first arrival (ahead of everyone who queued after it). Call under <see cref="Sync"/>.
    /// </summary>
    /// <param name="isSync">Whether the caller blocks a thread.</param>
    /// <param name="atHead">Whether the caller returns to its place by first arrival rather than to the tail.</param>
    /// <param name="queuedSince">The <see cref="Stopwatch"/> timestamp at which the caller first queued; 0 for now.</param>
    public Waiter Enqueue(bool isSync, bool atHead, long queuedSince)
    {
        Debug.Assert(Sync.IsHeldByCurrentThread, "The queue is guarded by its lock.");
        var waiter = Interlocked.Exchange(ref _spare, null);
        if (waiter is null)
        {
            waiter = _pool;
            if (waiter is null)
            {
                waiter = new Waiter(this);
            }
            else
            {
                _pool = waiter.Next;
                _poolCount--;
            }
        }

        waiter.Reset(isSync);
        waiter.QueuedSince = queuedSince switch
        {
            Untimed => 0,
            0 => QueueClock.Now(),
            _ => queuedSince,
        };

        // A returning caller goes back in front of everyone who queued after it, behind those who queued before:
        // the line stays ordered by first arrival when several woken callers return.
        var before = atHead ? _head : null;
        while (before is not null && before.QueuedSince <= waiter.QueuedSince)
        {
            before = before.Next;
        }

        if (atHead && before is not null)
        {
            waiter.Next = before;
            waiter.Previous = before.Previous;
            if (before.Previous is null)
            {
                _head = waiter;
            }
            else
            {
                before.Previous.Next = waiter;
            }

            before.Previous = waiter;
        }
        else
        {
            waiter.Next = null;
            waiter.Previous = _tail;
            if (_tail is null)
            {
                _head = waiter;
            }
            else
            {
                _tail.Next = waiter;
            }

            _tail = waiter;
        }

        waiter.IsQueued = true;
        Volatile.Write(ref _count, _count + 1);
        return waiter;
    }

    /// <summary>Unlinks and returns the oldest waiter, or null. Call under <see cref="Sync"/>.</summary>
    public Waiter? Dequeue()
    {
        var waiter = _head;
        if (waiter is not null)
        {
            Remove(waiter);
        }

        return waiter;
    }

    /// <summary>Unlinks a queued waiter. Call under <see cref="Sync"/>.</summary>
    public void Remove(Waiter waiter)
    {
        Debug.Assert(Sync.IsHeldByCurrentThread, "The queue is guarded by its lock.");
        Debug.Assert(waiter.IsQueued, "Only a queued waiter can be removed.");
        if (waiter.Previous is null)
        {
            _head = waiter.Next;
        }
        else
        {
            waiter.Previous.Next = waiter.Next;
        }

        if (waiter.Next is null)
        {
            _tail = waiter.Previous;
        }
        else
        {
            waiter.Next.Previous = waiter.Previous;
        }

        waiter.Next = waiter.Previous = null;
        waiter.IsQueued = false;
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>
    /// Ends the wait of <paramref name="waiter"/> as timed out or cancelled, if it is still queued. If a granter
    /// took it out first, nothing happens and the grant stands.
    /// </summary>
    /// <param name="waiter">The waiter giving up.</param>
    /// <param name="timedOut">True for a timeout, false for a cancellation.</param>
    /// <param name="byTimer">
    /// True when the waiter's timer fired: the tick may be late and the node already reused by another wait, so
    /// that wait's own deadline, read under the lock, decides.
    /// </param>
    /// <returns>True when this call ended the wait.</returns>
    public bool TryAbandon(Waiter waiter, bool timedOut, bool byTimer = false)
    {
        var release = default(WaiterList);
        lock (Sync)
        {
            if (!waiter.IsQueued || (byTimer && !waiter.IsPastDeadline()))
            {
                return false;
            }

            Remove(waiter);
            var error = _owner?.OnAbandoned(waiter, timedOut, ref release);
            if (error is not null)
            {
                waiter.Fail(error);
            }
            else if (timedOut)
            {
                waiter.TimeOut();
            }
            else
            {
                waiter.Fail(waiter.CreateCancelledException());
            }
        }

        waiter.Signal();
        release.SignalAll();
        return true;
    }

    /// <summary>Takes every queued waiter out, each failing with its own exception from <paramref name="createError"/>. Call under <see cref="Sync"/>.</summary>
    public void FailAll(Func<Exception> createError, ref WaiterList release)
    {
        while (Dequeue() is { } waiter)
        {
            waiter.Fail(createError());
            release.Add(waiter);
        }
    }

    /// <summary>Takes up to <paramref name="count"/> waiters out, oldest first, each granted <paramref name="payload"/>. Call under <see cref="Sync"/>.</summary>
    /// <returns>How many waiters were granted.</returns>
    public int GrantMany(int count, ref WaiterList release, int payload = 0)
    {
        var granted = 0;
        while (granted < count && Dequeue() is { } waiter)
        {
            waiter.Grant(payload);
            release.Add(waiter);
            granted++;
        }

        return granted;
    }

    /// <summary>Returns a finished node to the pool.</summary>
    public void Return(Waiter waiter)
    {
        Debug.Assert(!waiter.IsQueued, "A queued waiter cannot be pooled.");
        if (Interlocked.CompareExchange(ref _spare, waiter, null) is null)
        {
            return;
        }

        lock (Sync)
        {
            Debug.Assert(!waiter.IsQueued, "A queued waiter cannot be pooled.");
            if (_poolCount < MaxPooledWaiters)
            {
                waiter.Next = _pool;
                _pool = waiter;
                _poolCount++;
            }
        }
    }
}
