using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Pipeline.Handoffs;

/// <summary>
/// A fixed-capacity first-in, first-out ring of items. Not thread-safe: the owning channel guards every call with its
/// lock; only <see cref="Count"/> may be read without it.
/// </summary>
/// <typeparam name="T">The type of the items.</typeparam>
internal sealed class RingBuffer<T>
{
    /// <summary>The slots; an empty slot holds <see langword="default"/> so that the ring keeps no item alive.</summary>
    private readonly T[] _items;

    /// <summary>The index of the oldest item.</summary>
    private int _head;

    /// <summary>How many items the ring holds, 0 to <see cref="Capacity"/>.</summary>
    private int _count;

    /// <summary>
    /// The owner's count of items in the ring that readers may not see yet (the <c>Semaphore</c> kind's items, in a drop mode, whose
    /// filled slot is not released yet); beside <see cref="_count"/>, on the cache line the same writes already own. Not used by the
    /// ring itself.
    /// </summary>
    public int Unpublished;

    public RingBuffer(int capacity)
    {
        Debug.Assert(capacity >= 1);
        _items = new T[capacity];
    }

    public int Capacity => _items.Length;

    /// <summary>Gets how many items the ring holds; safe to read without the lock (a snapshot).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gets whether the ring is full; like <see cref="Count"/>, a snapshot when read without the lock.</summary>
    public bool IsFull => Volatile.Read(ref _count) == _items.Length;

    public void Enqueue(T item)
    {
        Debug.Assert(_count < _items.Length, "Enqueue into a full ring.");
        int tail = _head + _count;
        if (tail >= _items.Length)
        {
            tail -= _items.Length;
        }

        _items[tail] = item;
        Volatile.Write(ref _count, _count + 1);
    }

    public T Dequeue()
    {
        Debug.Assert(_count > 0, "Dequeue from an empty ring.");
        T item = _items[_head];
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            _items[_head] = default!;
        }

        if (++_head == _items.Length)
        {
            _head = 0;
        }

        Volatile.Write(ref _count, _count - 1);
        return item;
    }

    public T PeekOldest()
    {
        Debug.Assert(_count > 0, "Peek into an empty ring.");
        return _items[_head];
    }

    /// <summary>Replaces the most recently written item with <paramref name="item"/> and returns the one replaced.</summary>
    public T ReplaceNewest(T item)
    {
        Debug.Assert(_count > 0, "Replace in an empty ring.");
        int newest = _head + _count - 1;
        if (newest >= _items.Length)
        {
            newest -= _items.Length;
        }

        T dropped = _items[newest];
        _items[newest] = item;
        return dropped;
    }
}
