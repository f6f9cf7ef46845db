using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Pipeline.Handoffs;

/// <summary>
/// A fixed-capacity first-in, first-out ring of items. Not thread-safe: the owning channel guards every call with its
/// lock; only <see cref="Count"/> may be read without it.
/// </summary>
/// <remarks>
/// With <c>padded</c>, 128 bytes of unused slots follow the last slot, so the objects allocated after the ring (the
/// <c>Condition</c> kind's conditions, whose waiter counts every call reads) do not share a cache line with the slots
/// and the count that readers and writers on different cores write at every item. The <c>Semaphore</c> kind goes
/// without: the free-slot semaphore it allocates next is written in the same critical sections as the ring, and
/// sharing the ring's line saves it a line per item (padding it cost that kind up to half its throughput at
/// capacities 4 and 64 with several parties).
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
internal sealed class RingBuffer<T>
{
    /// <summary>Unused slots after the last one in a padded ring: 128 bytes, two 64-byte lines, which adjacent-line prefetch moves together.</summary>
    private static readonly int s_paddingSlots = (128 + Unsafe.SizeOf<T>() - 1) / Unsafe.SizeOf<T>();

    /// <summary>
    /// The slots, then <see cref="s_paddingSlots"/> unused ones in a padded ring; an empty slot holds
    /// <see langword="default"/> so that the ring keeps no item alive.
    /// </summary>
    private readonly T[] _items;

    /// <summary>How many items the ring holds at most.</summary>
    private readonly int _capacity;

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

    /// <summary>Creates a ring of <paramref name="capacity"/> slots.</summary>
    /// <param name="capacity">How many items the ring holds, 1 or more.</param>
    /// <param name="padded">Whether unused slots follow the last one, keeping the next objects off the slots' cache lines.</param>
    public RingBuffer(int capacity, bool padded)
    {
        Debug.Assert(capacity >= 1);
        _capacity = capacity;
        _items = new T[padded ? capacity + s_paddingSlots : capacity];
    }

    public int Capacity => _capacity;

    /// <summary>Gets how many items the ring holds; safe to read without the lock (a snapshot).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gets whether the ring is full; like <see cref="Count"/>, a snapshot when read without the lock.</summary>
    public bool IsFull => Volatile.Read(ref _count) == _capacity;

    public void Enqueue(T item)
    {
        Debug.Assert(_count < _capacity, "Enqueue into a full ring.");
        int tail = _head + _count;
        if (tail >= _capacity)
        {
            tail -= _capacity;
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

        if (++_head == _capacity)
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
        if (newest >= _capacity)
        {
            newest -= _capacity;
        }

        T dropped = _items[newest];
        _items[newest] = item;
        return dropped;
    }
}
