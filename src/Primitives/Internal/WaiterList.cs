namespace Pipeline.Primitives.Internal;

/// <summary>
/// Waiters taken out of a queue under its lock, each with its outcome set, to be signalled after the lock is
/// released so that no continuation or woken thread runs while the primitive's lock is held.
/// </summary>
internal struct WaiterList
{
    private Waiter? _head;
    private Waiter? _tail;

    /// <summary>Gets a value indicating whether no waiter was added.</summary>
    public readonly bool IsEmpty => _head is null;

    /// <summary>Appends a waiter that is no longer queued; its <see cref="Waiter.Next"/> link is reused.</summary>
    public void Add(Waiter waiter)
    {
        Debug.Assert(!waiter.IsQueued, "Only waiters taken out of their queue can be released.");
        waiter.Next = null;
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

    /// <summary>Moves every waiter of <paramref name="other"/> to the end of this list, leaving <paramref name="other"/> empty.</summary>
    public void Append(ref WaiterList other)
    {
        if (other._head is null)
        {
            return;
        }

        if (_tail is null)
        {
            _head = other._head;
        }
        else
        {
            _tail.Next = other._head;
        }

        _tail = other._tail;
        other._head = other._tail = null;
    }

    /// <summary>Changes the decided outcome of every waiter in the list to a failure, each with its own exception. They are not yet signalled, so nothing else reads them.</summary>
    public readonly void FailAll(Func<Exception> createError)
    {
        for (var waiter = _head; waiter is not null; waiter = waiter.Next)
        {
            waiter.Fail(createError());
        }
    }

    /// <summary>Signals every waiter in the list. Call without holding any primitive's lock.</summary>
    public void SignalAll()
    {
        var waiter = _head;
        _head = _tail = null;
        while (waiter is not null)
        {
            // Read the link first: a signalled waiter may be recycled and relinked at once.
            var next = waiter.Next;
            waiter.Next = null;
            waiter.Signal();
            waiter = next;
        }
    }
}
