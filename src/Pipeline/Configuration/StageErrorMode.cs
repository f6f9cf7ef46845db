namespace Pipeline;

/// <summary>What a stage does with an item whose processing threw.</summary>
public enum StageErrorMode
{
    /// <summary>The pipeline faults: upstream stops, downstream drains, the host is told.</summary>
    Stop,

    /// <summary>The item and its exception go to the dead-letter store (<see cref="IDeadLetterStore"/>, or the file at <c>DeadLetter:Path</c>) and the stage goes on.</summary>
    DeadLetter,

    /// <summary>The item is counted as failed, the error is logged, and the stage goes on.</summary>
    Skip,
}
