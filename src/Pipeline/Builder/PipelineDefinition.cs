using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>A complete pipeline as declared in code: its name, code-level handoff defaults and stages, source first.</summary>
internal sealed class PipelineDefinition(string name, HandoffOptions handoff, IReadOnlyList<StageDefinition> stages)
{
    public string Name { get; } = name;

    public HandoffOptions Handoff { get; } = handoff;

    public IReadOnlyList<StageDefinition> Stages { get; } = stages;

    /// <summary>The code settings of an acknowledging source's acknowledgements.</summary>
    public AcknowledgementSettings Acknowledgement { get; init; } = new();

    /// <summary>The code settings of per-item tracing.</summary>
    public TracingSettings Tracing { get; init; } = new();

    /// <summary>The largest batching step when the source is acknowledging (its items fill batches only as far as MaxPending lets them); otherwise <see langword="null"/>.</summary>
    public (string Stage, int Size)? LargestAcknowledgedBatch =>
        Stages.Count > 0 && Stages[0].IsAcknowledging && Stages.Where(stage => stage.BatchSize is not null).MaxBy(stage => stage.BatchSize) is { } batch
            ? (batch.Name, batch.BatchSize!.Value)
            : null;

    public StageDefinition? FindStage(string stageName)
    {
        foreach (var stage in Stages)
        {
            if (string.Equals(stage.Name, stageName, StringComparison.OrdinalIgnoreCase))
            {
                return stage;
            }
        }

        return null;
    }
}
