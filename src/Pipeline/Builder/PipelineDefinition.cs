namespace Pipeline;

/// <summary>A complete pipeline as declared in code: its name, code-level handoff defaults and stages, source first.</summary>
internal sealed class PipelineDefinition(string name, HandoffSettings handoff, IReadOnlyList<StageDefinition> stages)
{
    public string Name { get; } = name;

    public HandoffSettings Handoff { get; } = handoff;

    public IReadOnlyList<StageDefinition> Stages { get; } = stages;

    /// <summary>The code settings of an acknowledging source's acknowledgements.</summary>
    public AcknowledgementSettings Acknowledgement { get; init; } = new();

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
