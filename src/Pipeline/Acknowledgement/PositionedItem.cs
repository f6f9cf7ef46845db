namespace Pipeline;

/// <summary>An item of an <see cref="IAcknowledgingSource{T}"/> with its position in the source.</summary>
/// <typeparam name="T">The type of the item.</typeparam>
/// <remarks>A struct: wrapping an item costs no allocation.</remarks>
public readonly struct PositionedItem<T>
{
    /// <summary>Initializes an item at <paramref name="position"/>.</summary>
    /// <param name="item">The item.</param>
    /// <param name="position">Its position: strictly greater than the position of every item the source yielded before it.</param>
    public PositionedItem(T item, long position)
        : this(item, position, isReplay: false)
    {
    }

    /// <summary>Initializes an item at <paramref name="position"/>, marked as a replay or not.</summary>
    /// <param name="item">The item.</param>
    /// <param name="position">Its position: strictly greater than the position of every item the source yielded before it.</param>
    /// <param name="isReplay">Whether the item is processed again (e.g. read back from a dead-letter file).</param>
    public PositionedItem(T item, long position, bool isReplay)
    {
        Item = item;
        Position = position;
        IsReplay = isReplay;
    }

    /// <summary>Initializes an item at <paramref name="position"/> that carries the trace context it was produced under.</summary>
    /// <param name="item">The item.</param>
    /// <param name="position">Its position: strictly greater than the position of every item the source yielded before it.</param>
    /// <param name="isReplay">Whether the item is processed again (e.g. read back from a dead-letter file).</param>
    /// <param name="traceContext">
    /// The W3C trace context the item was produced under (e.g. parsed with <see cref="System.Diagnostics.ActivityContext.TryParse(string, string, bool, out System.Diagnostics.ActivityContext)"/>
    /// from a message's <c>traceparent</c> and <c>tracestate</c>), or <see langword="default"/> for none.
    /// </param>
    public PositionedItem(T item, long position, bool isReplay, System.Diagnostics.ActivityContext traceContext)
        : this(item, position, isReplay)
    {
        TraceContext = traceContext;
    }

    /// <summary>Gets the item.</summary>
    public T Item { get; }

    /// <summary>Gets the item's position in its source (a byte offset, a broker sequence number).</summary>
    public long Position { get; }

    /// <summary>
    /// Gets the trace context the item was produced under: when the item is traced (<see cref="TracingSettings.SampleRatio"/>), the
    /// activities of its stage calls are its children, continuing the producer's trace, instead of children of the run's activity.
    /// </summary>
    /// <value><see langword="default"/> when the source supplied none.</value>
    public System.Diagnostics.ActivityContext TraceContext { get; }

    /// <summary>Gets whether the item is a replay of one given up before (so statistics can tell replays from new items).</summary>
    public bool IsReplay { get; }
}
