using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pipeline.Handoffs;

/// <summary>
/// A fixed-capacity first-in, first-out ring of items. Not thread-safe: the owning channel guards every call with its
/// lock; only <see cref="Count"/> may be read without it.
/// </summary>
/// <remarks>
/// The ring's head and count, and its slots, are padded by 128 bytes on either side (as the BCL's <c>ConcurrentQueue</c>
/// pads its head and tail, and as the LMAX Disruptor pads its ring): readers and writers on different cores write
/// them at every item, and without the padding the objects allocated next to the ring (the channel's conditions,
/// whose waiter counts every call reads) would share their cache lines, so each item would also evict those readers'
/// copies. At capacity 1 this took about a sixth of the time of an item. The padding costs 256 bytes of slots and
/// 256 bytes of state per ring.
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
internal sealed class RingBuffer<T>
{
    /// <summary>Unused slots before the first and after the last slot, so no other object's fields share a cache line with the slots.</summary>
    private static readonly int s_paddingSlots = (RingBufferState.PaddingBytes + Unsafe.SizeOf<T>() - 1) / Unsafe.SizeOf<T>();

    /// <summary>
    /// The slots, <see cref="s_paddingSlots"/> of padding either side of the <see cref="Capacity"/> used ones; an empty
    /// slot holds <see langword="default"/> so that the ring keeps no item alive.
    /// </summary>
    private readonly T[] _items;

    /// <summary>How many items the ring holds at most.</summary>
    private readonly int _capacity;

    /// <summary>The index of the oldest item, its count and the owner's <see cref="Unpublished"/>, on a cache line of their own.</summary>
    private RingBufferState _state;

    public RingBuffer(int capacity)
    {
        Debug.Assert(capacity >= 1);
        _capacity = capacity;
        _items = new T[capacity + (2 * s_paddingSlots)];
    }

    public int Capacity => _capacity;

    /// <summary>
    /// Gets the owner's count of items in the ring that readers may not see yet (the <c>Semaphore</c> kind's items, in a drop mode, whose
    /// filled slot is not released yet); beside the count, on the cache line the same writes already own. Not used by the ring itself.
    /// </summary>
    public ref int Unpublished => ref _state.Unpublished;

    /// <summary>Gets how many items the ring holds; safe to read without the lock (a snapshot).</summary>
    public int Count => Volatile.Read(ref _state.Count);

    /// <summary>Gets whether the ring is full; like <see cref="Count"/>, a snapshot when read without the lock.</summary>
    public bool IsFull => Volatile.Read(ref _state.Count) == _capacity;

    public void Enqueue(T item)
    {
        int count = _state.Count;
        Debug.Assert(count < _capacity, "Enqueue into a full ring.");
        int tail = _state.Head + count;
        if (tail >= _capacity)
        {
            tail -= _capacity;
        }

        _items[s_paddingSlots + tail] = item;
        Volatile.Write(ref _state.Count, count + 1);
    }

    public T Dequeue()
    {
        int count = _state.Count;
        Debug.Assert(count > 0, "Dequeue from an empty ring.");
        int head = _state.Head;
        T item = _items[s_paddingSlots + head];
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            _items[s_paddingSlots + head] = default!;
        }

        _state.Head = head + 1 == _capacity ? 0 : head + 1;
        Volatile.Write(ref _state.Count, count - 1);
        return item;
    }

    public T PeekOldest()
    {
        Debug.Assert(_state.Count > 0, "Peek into an empty ring.");
        return _items[s_paddingSlots + _state.Head];
    }

    /// <summary>Replaces the most recently written item with <paramref name="item"/> and returns the one replaced.</summary>
    public T ReplaceNewest(T item)
    {
        Debug.Assert(_state.Count > 0, "Replace in an empty ring.");
        int newest = _state.Head + _state.Count - 1;
        if (newest >= _capacity)
        {
            newest -= _capacity;
        }

        T dropped = _items[s_paddingSlots + newest];
        _items[s_paddingSlots + newest] = item;
        return dropped;
    }
}

/// <summary>
/// The ring's mutable state, written by every enqueue and dequeue, padded onto a cache line of its own (as the BCL's
/// <c>ConcurrentQueue</c> pads its head and tail): the objects allocated beside the ring, such as the conditions
/// whose waiter counts are read on every call, would otherwise share its line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = (2 * 128) + 16)]
internal struct RingBufferState
{
    /// <summary>Bytes of padding either side of the fields: two 64-byte lines, which adjacent-line prefetch moves together.</summary>
    public const int PaddingBytes = 128;

    [FieldOffset(PaddingBytes)]
    public int Head;

    [FieldOffset(PaddingBytes + 4)]
    public int Count;

    [FieldOffset(PaddingBytes + 8)]
    public int Unpublished;
}
