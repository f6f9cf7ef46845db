namespace Pipeline;

/// <summary>
/// What one stage did with its items. After a run, <c><see cref="In"/> = <see cref="Out"/> + <see cref="Failed"/> + <see cref="Dropped"/></c>
/// holds for every stage (<see cref="IsBalanced"/>).
/// </summary>
public sealed class StageStatistics
{
    /// <summary>Initializes the statistics of one stage.</summary>
    /// <param name="stageName">The stage's name.</param>
    /// <param name="in">Items that entered the stage.</param>
    /// <param name="out">Items processed successfully.</param>
    /// <param name="failed">Items whose processing threw.</param>
    /// <param name="dropped">Items dropped unprocessed.</param>
    /// <param name="produced">Items handed downstream.</param>
    /// <param name="deadLettered">Failed or dropped items written to the dead-letter store.</param>
    public StageStatistics(string stageName, long @in, long @out, long failed, long dropped, long produced, long deadLettered)
    {
        StageName = stageName;
        In = @in;
        Out = @out;
        Failed = failed;
        Dropped = dropped;
        Produced = produced;
        DeadLettered = deadLettered;
    }

    /// <summary>Gets the stage's name.</summary>
    public string StageName { get; }

    /// <summary>Gets how many items entered the stage: read by a source, or written into the stage's input handoff.</summary>
    public long In { get; }

    /// <summary>Gets how many items the stage processed successfully. For a batching step, the items in the batches it emitted.</summary>
    public long Out { get; }

    /// <summary>Gets how many items threw while being processed (stopped the pipeline, or were skipped).</summary>
    public long Failed { get; }

    /// <summary>
    /// Gets how many items were dropped unprocessed: by the input handoff's full mode, or discarded because the pipeline faulted at
    /// or after this stage or was aborted.
    /// </summary>
    public long Dropped { get; }

    /// <summary>Gets how many items the stage handed downstream (equals <see cref="Out"/> for one-to-one stages; batches for a batching step).</summary>
    public long Produced { get; }

    /// <summary>Gets how many of the <see cref="Failed"/> and <see cref="Dropped"/> items were written to the dead-letter store.</summary>
    public long DeadLettered { get; }

    /// <summary>Gets whether <c>In = Out + Failed + Dropped</c>; always true once the run has completed.</summary>
    public bool IsBalanced => In == Out + Failed + Dropped;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{StageName}: in {In}, out {Out}, failed {Failed}, dropped {Dropped}, produced {Produced}, dead-lettered {DeadLettered}";
}
