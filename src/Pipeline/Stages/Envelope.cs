namespace Pipeline;

/// <summary>One item as it travels between stages, with the acknowledgement it carries.</summary>
/// <typeparam name="T">The type of the item.</typeparam>
/// <remarks>
/// A struct, so that wrapping an item costs no allocation. <see cref="Acknowledgement"/> is zero for a plain source; for an
/// <see cref="IAcknowledgingSource{T}"/> it names what the item holds a reference of in the run's <see cref="AcknowledgementLedger"/>
/// (a source item's ticket, or a batch's group), released exactly once where the item ends.
/// </remarks>
internal readonly struct Envelope<T>
{
    public Envelope(T item, long acknowledgement)
        : this(item, acknowledgement, trace: null)
    {
    }

    public Envelope(T item, long acknowledgement, ItemTrace? trace)
    {
        Item = item;
        Acknowledgement = acknowledgement;
        Trace = trace;
    }

    /// <summary>The item.</summary>
    public T Item { get; }

    /// <summary>The acknowledgement the item carries: a ticket (positive), a group (negative), or 0 for none.</summary>
    public long Acknowledgement { get; }

    /// <summary>The item's trace when it was sampled (<see cref="TracingSettings.SampleRatio"/>); <see langword="null"/> for most items.</summary>
    public ItemTrace? Trace { get; }
}
