namespace Pipeline;

/// <summary>The outcome of one pipeline run: how it ended and what every stage did with its items.</summary>
public sealed class PipelineResult
{
    internal PipelineResult(string pipelineName, PipelineStatus status, Exception? exception, string? faultedStage, IReadOnlyList<StageStatistics> stages)
    {
        PipelineName = pipelineName;
        Status = status;
        Exception = exception;
        FaultedStage = faultedStage;
        Stages = stages;
    }

    /// <summary>Gets the pipeline's name.</summary>
    public string PipelineName { get; }

    /// <summary>Gets how the run ended.</summary>
    public PipelineStatus Status { get; }

    /// <summary>Gets the error that faulted the run; <see langword="null"/> unless <see cref="Status"/> is <see cref="PipelineStatus.Faulted"/>.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets the name of the stage that faulted the run, if any.</summary>
    public string? FaultedStage { get; }

    /// <summary>Gets every stage's statistics, source first.</summary>
    public IReadOnlyList<StageStatistics> Stages { get; }

    /// <summary>Gets whether <c>In = Out + Failed + Dropped</c> holds for every stage.</summary>
    public bool IsBalanced => Stages.All(stage => stage.IsBalanced);

    /// <summary>Gets one stage's statistics.</summary>
    /// <param name="stageName">The stage's name (case-insensitive).</param>
    /// <returns>The stage's statistics.</returns>
    /// <exception cref="KeyNotFoundException">Thrown when the pipeline has no stage named <paramref name="stageName"/>.</exception>
    public StageStatistics this[string stageName] =>
        Stages.FirstOrDefault(stage => string.Equals(stage.StageName, stageName, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"Pipeline '{PipelineName}' has no stage '{stageName}'.");

    /// <inheritdoc/>
    public override string ToString() =>
        $"{PipelineName} {Status}: {string.Join("; ", Stages)}";
}
