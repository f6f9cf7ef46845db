using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>
/// The BCL bounded channel as a handoff of kind <see cref="HandoffKind.Channel"/>: its own reader and writer, unwrapped,
/// plus the settings and the count of dropped items that <see cref="IHandoff"/> exposes.
/// </summary>
/// <typeparam name="T">The type of the items.</typeparam>
internal sealed class BoundedChannelHandoff<T> : Channel<T>, IHandoff
{
    private readonly Action<T>? _itemDropped;
    private long _dropped;

    public BoundedChannelHandoff(int capacity, BoundedChannelFullMode fullMode, Action<T>? itemDropped)
    {
        HandoffArguments.ValidateConstructor(capacity, fullMode);
        Capacity = capacity;
        FullMode = fullMode;
        _itemDropped = itemDropped;
        Channel<T> inner = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { FullMode = fullMode }, OnItemDropped);
        Reader = inner.Reader;
        Writer = inner.Writer;
    }

    public HandoffKind Kind => HandoffKind.Channel;

    public int Capacity { get; }

    public BoundedChannelFullMode FullMode { get; }

    public long Dropped => Interlocked.Read(ref _dropped);

    private void OnItemDropped(T item)
    {
        Interlocked.Increment(ref _dropped);
        _itemDropped?.Invoke(item);
    }
}
