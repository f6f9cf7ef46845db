using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Pipeline.Handoffs;

/// <summary>
/// A fixed-capacity first-in, first-out ring of items. Not thread-safe: the owning channel guards every call with its
/// lock; only <see cref="Count"/> may be read without it.
/// </summary>
/// <remarks>
/// Where the ring's head and count live, and whether its slots are padded, is chosen by <typeparamref name="TIndices"/>
/// (a struct, so each choice is compiled on its own, with no indirection): <see cref="PaddedRingIndices"/> puts the
/// head and count on a cache line of their own and 128 bytes of unused slots either side of the slots, so the objects
/// allocated next to the ring do not share the lines that readers and writers on different cores write at every item
/// (the <c>Condition</c> kind, whose neighbours are its conditions, with waiter counts every call reads);
/// <see cref="PlainRingIndices"/> keeps them beside the ring's other fields and the slots unpadded (the
/// <c>Semaphore</c> kind, whose free-slot semaphore, allocated next, is written in the same critical sections as the
/// ring and gains from sharing its line).
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
/// <typeparam name="TIndices">Where the head and count live: <see cref="PaddedRingIndices"/> or <see cref="PlainRingIndices"/>.</typeparam>
internal sealed class RingBuffer<T, TIndices>
    where TIndices : struct, IRingIndices
{
    /// <summary>Unused slots before the first slot and after the last one: 128 bytes with <see cref="PaddedRingIndices"/>, none otherwise.</summary>
    private static readonly int s_paddingSlots =
        TIndices.PadsSlots ? (IRingIndices.PaddingBytes + Unsafe.SizeOf<T>() - 1) / Unsafe.SizeOf<T>() : 0;

    /// <summary>
    /// The slots, between <see cref="s_paddingSlots"/> unused ones either side; an empty slot holds
    /// <see langword="default"/> so that the ring keeps no item alive.
    /// </summary>
    private readonly T[] _items;

    /// <summary>How many items the ring holds at most.</summary>
    private readonly int _capacity;

    /// <summary>The index of the oldest item and how many items the ring holds.</summary>
    private TIndices _indices;

    /// <summary>
    /// The owner's count of items in the ring that readers may not see yet (the <c>Semaphore</c> kind's items, in a drop
    /// mode, whose filled slot is not released yet). Not used by the ring itself.
    /// </summary>
    public int Unpublished;

    /// <summary>Creates a ring of <paramref name="capacity"/> slots.</summary>
    /// <param name="capacity">How many items the ring holds, 1 or more.</param>
    public RingBuffer(int capacity)
    {
        Debug.Assert(capacity >= 1);
        _capacity = capacity;
        _indices = default;
        _items = new T[capacity + (2 * s_paddingSlots)];
    }

    public int Capacity => _capacity;

    /// <summary>Gets how many items the ring holds; safe to read without the lock (a snapshot).</summary>
    public int Count => _indices.VolatileCount;

    /// <summary>Gets whether the ring is full; like <see cref="Count"/>, a snapshot when read without the lock.</summary>
    public bool IsFull => _indices.VolatileCount == _capacity;

    public void Enqueue(T item)
    {
        int count = _indices.Count;
        Debug.Assert(count < _capacity, "Enqueue into a full ring.");
        int tail = _indices.Head + count;
        if (tail >= _capacity)
        {
            tail -= _capacity;
        }

        _items[s_paddingSlots + tail] = item;
        _indices.VolatileCount = count + 1;
    }

    public T Dequeue()
    {
        int count = _indices.Count;
        Debug.Assert(count > 0, "Dequeue from an empty ring.");
        int head = _indices.Head;
        T item = _items[s_paddingSlots + head];
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            _items[s_paddingSlots + head] = default!;
        }

        _indices.Head = head + 1 == _capacity ? 0 : head + 1;
        _indices.VolatileCount = count - 1;
        return item;
    }

    public T PeekOldest()
    {
        Debug.Assert(_indices.Count > 0, "Peek into an empty ring.");
        return _items[s_paddingSlots + _indices.Head];
    }

    /// <summary>Replaces the most recently written item with <paramref name="item"/> and returns the one replaced.</summary>
    public T ReplaceNewest(T item)
    {
        Debug.Assert(_indices.Count > 0, "Replace in an empty ring.");
        int newest = _indices.Head + _indices.Count - 1;
        if (newest >= _capacity)
        {
            newest -= _capacity;
        }

        T dropped = _items[s_paddingSlots + newest];
        _items[s_paddingSlots + newest] = item;
        return dropped;
    }
}
