namespace Pipeline;

/// <summary>One item as it travels between stages, with the acknowledgement it carries.</summary>
/// <typeparam name="T">The type of the item.</typeparam>
/// <remarks>
/// A struct, so that wrapping an item costs no allocation. <see cref="Acknowledgement"/> is zero when the source attached none;
/// it is the place for a source's offset or message id once sources acknowledge what the pipeline has fully accounted for.
/// </remarks>
internal readonly struct Envelope<T>
{
    public Envelope(T item, long acknowledgement)
    {
        Item = item;
        Acknowledgement = acknowledgement;
    }

    /// <summary>The item.</summary>
    public T Item { get; }

    /// <summary>The source's acknowledgement token; 0 = none.</summary>
    public long Acknowledgement { get; }
}
