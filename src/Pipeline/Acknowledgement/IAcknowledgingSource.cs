namespace Pipeline;

/// <summary>
/// A source that can resume after a crash: each item has a position, and the engine tells the source how far every item has been
/// accounted for, so the source can persist it (a checkpoint file, a broker commit) and start after it next time.
/// </summary>
/// <typeparam name="T">The type of the items produced.</typeparam>
/// <remarks>
/// <para>
/// <b>Positions.</b> Each item yielded by <see cref="ReadAsync"/> carries a <see cref="long"/> position, strictly greater than the
/// position of every item yielded before it in the same enumeration (a byte offset after the item, a broker sequence number).
/// </para>
/// <para>
/// <b>Watermark.</b> <see cref="AcknowledgeAsync"/> receives a contiguous watermark, as Kafka commits offsets: "every item at or
/// before <c>position</c> is done with" — sunk, dead-lettered, skipped (<c>OnError: Skip</c>), or dropped by a handoff's
/// <c>FullMode</c>. It never passes an item still in flight, however many later items have finished: a slow item at position 5
/// holds the watermark at 4. Nor does it pass an item that was discarded (after a fault or an abort) or abandoned at the shutdown
/// deadline without a dead-letter store to keep it: that item is read again after a restart, with the items after it. An item that a
/// transform turned into several (<c>ThenMany</c>) is accounted for when all of its outputs are; items merged into a batch
/// (<c>Batch</c>) when the batch is. Every acknowledged position is one the source yielded.
/// </para>
/// <para>
/// <b>Coalescing.</b> Acknowledgements are coalesced by count and by time: the source is told at most once per group of items and
/// at the latest a configured interval after the watermark moved, so persisting on each call is affordable. A final acknowledgement
/// follows a graceful stop, and the shutdown deadline (for what was accounted for by then).
/// </para>
/// <para>
/// <b>Calls.</b> <see cref="AcknowledgeAsync"/> is never called concurrently with itself, with strictly increasing positions, and may be
/// called while <see cref="ReadAsync"/> is still producing (from another thread). It may also be called after the enumeration ended,
/// for the final acknowledgement. Delivery is at least once: after a crash, items after the last acknowledged position are read again;
/// the source never runs more than <see cref="AcknowledgementSettings.MaxPending"/> items (rounded up to a power of two) ahead of the
/// last acknowledgement, so that is the most a crash delivers again.
/// </para>
/// </remarks>
public interface IAcknowledgingSource<T>
{
    /// <summary>Returns the items to process, each with its position.</summary>
    /// <param name="stoppingToken">Cancelled when the pipeline is asked to stop: end the sequence (or throw <see cref="OperationCanceledException"/>).</param>
    /// <returns>The items, positions strictly increasing.</returns>
    IAsyncEnumerable<PositionedItem<T>> ReadAsync(CancellationToken stoppingToken);

    /// <summary>Tells the source that every item at or before <paramref name="position"/> is accounted for.</summary>
    /// <param name="position">The position of an item the source yielded; greater than the previous acknowledgement's.</param>
    /// <param name="cancellationToken">Cancelled when the pipeline is aborted.</param>
    /// <returns>A task that completes when the source has recorded the acknowledgement (e.g. persisted its checkpoint).</returns>
    ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken);
}
