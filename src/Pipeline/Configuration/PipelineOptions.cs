using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>
/// The configuration of one pipeline, as bound from <c>Pipelines:{name}</c>: the default handoff of every stage, per-stage
/// overrides, and the dead-letter store. Values set here override the defaults given in code.
/// </summary>
public sealed class PipelineOptions
{
    /// <summary>The configuration section that holds every pipeline, one child per pipeline name.</summary>
    public const string SectionName = "Pipelines";

    /// <summary>
    /// Gets the pipeline's settings of every stage's input handoff (<c>Pipelines:{name}:Handoff</c>). Each member that is set
    /// overrides the handoff settings in code, the stage's and the pipeline's; a stage's own configuration overrides it in turn.
    /// </summary>
    public HandoffOptions Handoff { get; } = new();

    /// <summary>Gets the per-stage settings, by stage name (case-insensitive).</summary>
    public IDictionary<string, StageOptions> Stages { get; } = new Dictionary<string, StageOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the dead-letter settings.</summary>
    public DeadLetterSettings DeadLetter { get; } = new();

    /// <summary>
    /// Gets the acknowledgement settings read from <c>Pipelines:{name}:Acknowledgement</c> (<c>MaxCount</c>, <c>MaxDelay</c>,
    /// <c>MaxPending</c>) laid over the code's <see cref="PipelineBuilder.Acknowledgement"/>; <see langword="null"/> when configuration sets none.
    /// </summary>
    internal AcknowledgementSettings? Acknowledgement { get; set; }

    /// <summary>Gets the tracing settings read from <c>Pipelines:{name}:Tracing</c> laid over the code's <see cref="PipelineBuilder.Tracing"/>; <see langword="null"/> when configuration sets none.</summary>
    internal TracingSettings? Tracing { get; set; }

    /// <summary>Gets or sets how often a run logs a progress line (<c>Pipelines:{name}:Progress:Interval</c>); <see langword="null"/>: never.</summary>
    internal TimeSpan? ProgressInterval { get; set; }
}
