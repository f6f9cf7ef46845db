using System.Runtime.InteropServices;

namespace Pipeline;

/// <summary>
/// The counts of one worker of a stage. Each worker owns one and is its only writer, so counting is a plain increment with no
/// interlocked operation and no contention; readers sum every worker's counts (a 64-bit read is atomic on the platforms we run on).
/// The counts sit in the middle of a 192-byte object so that two workers' counters never share a cache line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal sealed class StageCounter
{
    /// <summary>Creates the counter of one worker.</summary>
    /// <param name="clock">The run's clock, which the worker's waits are timed by.</param>
    public StageCounter(TimeProvider clock) => Clock = clock;

    /// <summary>Items taken from the stage's input.</summary>
    [FieldOffset(64)]
    public long In;

    /// <summary>Input items processed successfully (their outputs, if any, were handed downstream).</summary>
    [FieldOffset(72)]
    public long Out;

    /// <summary>Input items whose processing threw.</summary>
    [FieldOffset(80)]
    public long Failed;

    /// <summary>Input items discarded unprocessed (the pipeline faulted upstream of here or was aborted).</summary>
    [FieldOffset(88)]
    public long Dropped;

    /// <summary>Output items handed downstream.</summary>
    [FieldOffset(96)]
    public long Produced;

    /// <summary>Failed or dropped input items written to the dead-letter store.</summary>
    [FieldOffset(104)]
    public long DeadLettered;

    /// <summary>Failed input items skipped (<see cref="StageErrorMode.Skip"/>).</summary>
    [FieldOffset(112)]
    public long Skipped;

    /// <summary>Failed or dropped input items given up with no dead-letter store to take them (or a store that failed).</summary>
    [FieldOffset(120)]
    public long Discarded;

    /// <summary>Input items given up at a shutdown deadline with no dead-letter store to take them.</summary>
    [FieldOffset(128)]
    public long Abandoned;

    /// <summary>Items a source yielded marked as replays (<see cref="PositionedItem{T}.IsReplay"/>).</summary>
    [FieldOffset(136)]
    public long Replayed;

    /// <summary>Time spent waiting for input, in <see cref="Clock"/> timestamp ticks.</summary>
    [FieldOffset(144)]
    public long StarvedTicks;

    /// <summary>Time spent waiting for room downstream (back-pressure), in <see cref="Clock"/> timestamp ticks.</summary>
    [FieldOffset(152)]
    public long BlockedTicks;

    /// <summary>When the wait for input going on now began (<see cref="Clock"/> timestamp; 0: none), so that a long wait counts as starved while it lasts.</summary>
    [FieldOffset(160)]
    public long StarvedSince;

    /// <summary>When the wait for room going on now began (0: none).</summary>
    [FieldOffset(168)]
    public long BlockedSince;

    /// <summary>The run's clock (<see cref="PipelineLifecycle.TimeProvider"/>): the waits above are its timestamps, so a test's fake clock times them too.</summary>
    [FieldOffset(176)]
    public readonly TimeProvider Clock;
}
