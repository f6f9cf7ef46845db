namespace Pipeline;

/// <summary>
/// What one stage did with its items. After a run, <c><see cref="In"/> = <see cref="Out"/> + <see cref="Failed"/> + <see cref="Dropped"/></c>
/// holds for every stage (<see cref="IsBalanced"/>), and every failed or dropped item reached exactly one end:
/// <c><see cref="Failed"/> + <see cref="Dropped"/> = <see cref="DeadLettered"/> + <see cref="Skipped"/> + <see cref="Discarded"/> + <see cref="Abandoned"/></c>
/// (<see cref="IsSettled"/>). While the run goes on, the difference is <see cref="InFlight"/>.
/// </summary>
public sealed class StageStatistics
{
    /// <summary>Initializes the statistics of one stage, with no skipped, discarded, abandoned or waiting items.</summary>
    /// <param name="stageName">The stage's name.</param>
    /// <param name="in">Items taken from the stage's input handoff (read, for a source).</param>
    /// <param name="out">Items processed successfully.</param>
    /// <param name="failed">Items whose processing threw.</param>
    /// <param name="dropped">Items dropped unprocessed.</param>
    /// <param name="produced">Items handed downstream.</param>
    /// <param name="deadLettered">Failed or dropped items written to the dead-letter store.</param>
    public StageStatistics(string stageName, long @in, long @out, long failed, long dropped, long produced, long deadLettered)
        : this(stageName, @in, @out, failed, dropped, produced, deadLettered, skipped: 0, discarded: 0, abandoned: 0, waiting: 0)
    {
    }

    /// <summary>Initializes the statistics of one stage.</summary>
    /// <param name="stageName">The stage's name.</param>
    /// <param name="in">Items taken from the stage's input handoff (read, for a source).</param>
    /// <param name="out">Items processed successfully.</param>
    /// <param name="failed">Items whose processing threw.</param>
    /// <param name="dropped">Items dropped unprocessed.</param>
    /// <param name="produced">Items handed downstream.</param>
    /// <param name="deadLettered">Failed or dropped items written to the dead-letter store.</param>
    /// <param name="skipped">Failed items skipped (<see cref="StageErrorMode.Skip"/>).</param>
    /// <param name="discarded">Failed or dropped items given up with no dead-letter store to take them.</param>
    /// <param name="abandoned">Items given up at a shutdown deadline with no dead-letter store to take them.</param>
    /// <param name="waiting">Items waiting in the stage's input handoff when the statistics were taken.</param>
    public StageStatistics(string stageName, long @in, long @out, long failed, long dropped, long produced, long deadLettered, long skipped, long discarded, long abandoned, long waiting)
    {
        StageName = stageName;
        In = @in;
        Out = @out;
        Failed = failed;
        Dropped = dropped;
        Produced = produced;
        DeadLettered = deadLettered;
        Skipped = skipped;
        Discarded = discarded;
        Abandoned = abandoned;
        Waiting = waiting;
    }

    /// <summary>
    /// Gets how many of the items a source read were replays (<see cref="PositionedItem{T}.IsReplay"/>, such as those of a
    /// <see cref="DeadLetterSource{T}"/>); included in <see cref="In"/>. Always 0 for other stages and plain sources.
    /// </summary>
    public long Replayed { get; init; }

    /// <summary>Gets how many workers share the stage's time (its <c>Parallelism</c>; 1 for a source or a batching step).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Gets how long the stage has been processing: from its start to its end, or to now while it runs.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Gets the time the stage's workers, summed, waited for input (the stage was starved: upstream is slower).</summary>
    public TimeSpan Starved { get; init; }

    /// <summary>Gets the time the stage's workers, summed, waited for room in the next stage's handoff (blocked by back-pressure: downstream is slower).</summary>
    public TimeSpan Blocked { get; init; }

    /// <summary>Gets the time the stage's workers, summed, were neither starved nor blocked: running stage code (or the engine's own work for it).</summary>
    public TimeSpan Busy => Elapsed * Workers - Starved - Blocked is var busy && busy > TimeSpan.Zero ? busy : TimeSpan.Zero;

    /// <summary>Gets the stage's name.</summary>
    public string StageName { get; }

    /// <summary>
    /// Gets how many items the stage took: for a source, items it read; for any other stage, items taken from its input handoff
    /// (including those the handoff's full mode dropped). Items still waiting in the handoff are in <see cref="Waiting"/>.
    /// </summary>
    public long In { get; }

    /// <summary>Gets how many items the stage processed successfully. For a batching step, the items in the batches it emitted.</summary>
    public long Out { get; }

    /// <summary>Gets how many items threw while being processed (stopped the pipeline, or were dead-lettered or skipped).</summary>
    public long Failed { get; }

    /// <summary>
    /// Gets how many items were dropped unprocessed: by the input handoff's full mode, discarded because the pipeline faulted at
    /// or after this stage or was aborted, or given up at the shutdown deadline.
    /// </summary>
    public long Dropped { get; }

    /// <summary>Gets how many items the stage handed downstream (equals <see cref="Out"/> for one-to-one stages; batches for a batching step).</summary>
    public long Produced { get; }

    /// <summary>Gets how many of the <see cref="Failed"/> and <see cref="Dropped"/> items were written to the dead-letter store.</summary>
    public long DeadLettered { get; }

    /// <summary>Gets how many of the <see cref="Failed"/> items were skipped (<see cref="StageErrorMode.Skip"/>).</summary>
    public long Skipped { get; }

    /// <summary>
    /// Gets how many of the <see cref="Failed"/> and <see cref="Dropped"/> items were given up without being stored: dropped by the
    /// handoff's full mode, or failed or discarded when the pipeline has no dead-letter store (or its store failed).
    /// </summary>
    public long Discarded { get; }

    /// <summary>Gets how many of the <see cref="Dropped"/> items were given up at the shutdown deadline with no dead-letter store to take them.</summary>
    public long Abandoned { get; }

    /// <summary>Gets how many items waited in the stage's input handoff when the statistics were taken (0 for a source).</summary>
    public long Waiting { get; }

    /// <summary>
    /// Gets how many items the stage had taken and not yet finished with: taken and not yet handed on or brought to an end
    /// (dead-lettered, skipped, discarded, abandoned), <c>In - Out - DeadLettered - Skipped - Discarded - Abandoned</c>. An item
    /// whose dead-letter write is still going on is in flight.
    /// </summary>
    public long InFlight => In - Out - DeadLettered - Skipped - Discarded - Abandoned;

    /// <summary>Gets whether <c>In = Out + Failed + Dropped</c>; always true once the run has completed.</summary>
    public bool IsBalanced => In == Out + Failed + Dropped;

    /// <summary>Gets whether every failed or dropped item reached exactly one end: dead-lettered, skipped, discarded or abandoned.</summary>
    public bool IsSettled => Failed + Dropped == DeadLettered + Skipped + Discarded + Abandoned;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{StageName}: in {In}, out {Out}, failed {Failed}, dropped {Dropped}, produced {Produced}, dead-lettered {DeadLettered}"
        + (Skipped > 0 ? $", skipped {Skipped}" : string.Empty)
        + (Discarded > 0 ? $", discarded {Discarded}" : string.Empty)
        + (Abandoned > 0 ? $", abandoned {Abandoned}" : string.Empty)
        + (Waiting > 0 ? $", waiting {Waiting}" : string.Empty);
}
