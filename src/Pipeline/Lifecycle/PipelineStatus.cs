namespace Pipeline;

/// <summary>How a pipeline run ended.</summary>
public enum PipelineStatus
{
    /// <summary>The source ended and every stage drained.</summary>
    Completed,

    /// <summary>A stop was requested; the source stopped and every stage drained.</summary>
    Stopped,

    /// <summary>A stage threw; upstream stopped and discarded, downstream drained. <see cref="PipelineResult.Exception"/> holds the error.</summary>
    Faulted,

    /// <summary>The run was aborted (a stop did not drain in time): work in flight was cancelled and the rest discarded.</summary>
    Aborted,
}
