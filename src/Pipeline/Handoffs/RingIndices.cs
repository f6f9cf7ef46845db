using System.Runtime.InteropServices;

namespace Pipeline.Handoffs;

/// <summary>Where a <see cref="RingBuffer{T, TIndices}"/> keeps its head and count, and whether it pads its slots.</summary>
internal interface IRingIndices
{
    /// <summary>The padding, in bytes, either side of padded fields and slots: two 64-byte lines, which adjacent-line prefetch moves together.</summary>
    public const int PaddingBytes = 128;

    /// <summary>Gets a value indicating whether the ring pads its slots with <see cref="PaddingBytes"/> of unused slots either side.</summary>
    static abstract bool PadsSlots { get; }

    /// <summary>Gets or sets the index of the oldest item; read and written under the owner's lock.</summary>
    int Head { get; set; }

    /// <summary>Gets how many items the ring holds, read under the owner's lock.</summary>
    int Count { get; }

    /// <summary>Gets or sets the count with a volatile read or write: read without the lock, written under it.</summary>
    int VolatileCount { get; set; }
}

/// <summary>
/// The head and count on a cache line of their own (128 bytes either side, as the BCL's <c>ConcurrentQueue</c> pads its
/// head and tail), with padded slots.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = (2 * IRingIndices.PaddingBytes) + 8)]
internal struct PaddedRingIndices : IRingIndices
{
    [FieldOffset(IRingIndices.PaddingBytes)]
    private int _head;

    [FieldOffset(IRingIndices.PaddingBytes + 4)]
    private int _count;

    public static bool PadsSlots => true;

    public int Head
    {
        readonly get => _head;
        set => _head = value;
    }

    public readonly int Count => _count;

    public int VolatileCount
    {
        readonly get => Volatile.Read(in _count);
        set => Volatile.Write(ref _count, value);
    }
}

/// <summary>The head and count beside the ring's other fields, with unpadded slots.</summary>
internal struct PlainRingIndices : IRingIndices
{
    private int _head;
    private int _count;

    public static bool PadsSlots => false;

    public int Head
    {
        readonly get => _head;
        set => _head = value;
    }

    public readonly int Count => _count;

    public int VolatileCount
    {
        readonly get => Volatile.Read(in _count);
        set => Volatile.Write(ref _count, value);
    }
}
