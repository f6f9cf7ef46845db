using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>The options one stage runs with, after configuration has overridden the code defaults.</summary>
internal sealed record ResolvedStageOptions(
    int Parallelism,
    bool Ordered,
    HandoffOptions Handoff,
    StageErrorMode OnError,
    ResilienceSettings? Resilience)
{
    /// <summary>Gets the failure budget's count; <see langword="null"/> = no limit.</summary>
    public long? MaxFailures { get; init; }

    /// <summary>Gets the failure budget's ratio; <see langword="null"/> = no limit.</summary>
    public double? MaxFailureRatio { get; init; }

    /// <summary>Gets how many items the stage takes before <see cref="MaxFailureRatio"/> applies.</summary>
    public int FailureRatioMinimumItems { get; init; } = StageOptions.DefaultFailureRatioMinimumItems;

    /// <summary>Gets a file source stage's configured settings, laid over its code options when the run starts.</summary>
    public FileSourceOverrides? FileSource { get; init; }

    /// <summary>
    /// Resolves each value from, first to last: the stage's configuration, the pipeline's configuration (handoff only), the
    /// stage's code options, the pipeline's code options (handoff only), the engine defaults.
    /// </summary>
    public static ResolvedStageOptions Resolve(StageDefinition stage, HandoffOptions codeHandoff, PipelineOptions? configuration)
    {
        StageOptions? configured = null;
        configuration?.Stages.TryGetValue(stage.Name, out configured);
        var code = stage.CodeOptions;
        var handoff = HandoffOptions.Merge(configured?.Handoff, configuration?.Handoff, code.Handoff, codeHandoff);
        return new ResolvedStageOptions(
            configured?.Parallelism ?? code.Parallelism ?? 1,
            configured?.Ordered ?? code.Ordered ?? true,
            handoff,
            configured?.OnError ?? code.OnError ?? StageErrorMode.Stop,
            configured?.Resilience ?? code.Resilience)
        {
            MaxFailures = configured?.MaxFailures ?? code.MaxFailures,
            MaxFailureRatio = configured?.MaxFailureRatio ?? code.MaxFailureRatio,
            FailureRatioMinimumItems = configured?.FailureRatioMinimumItems ?? code.FailureRatioMinimumItems ?? StageOptions.DefaultFailureRatioMinimumItems,
            FileSource = configured?.FileSource,
        };
    }
}
