namespace Pipeline;

/// <summary>
/// The counts of one worker of a stage. Each worker owns one and is its only writer, so counting is a plain increment with no
/// interlocked operation and no contention; readers sum every worker's counts (a 64-bit read is atomic on the platforms we run on).
/// </summary>
internal sealed class StageCounter
{
    /// <summary>Items taken from the stage's input.</summary>
    public long In;

    /// <summary>Input items processed successfully (their outputs, if any, were handed downstream).</summary>
    public long Out;

    /// <summary>Input items whose processing threw.</summary>
    public long Failed;

    /// <summary>Input items discarded unprocessed (the pipeline faulted upstream of here or was aborted).</summary>
    public long Dropped;

    /// <summary>Output items handed downstream.</summary>
    public long Produced;
}
