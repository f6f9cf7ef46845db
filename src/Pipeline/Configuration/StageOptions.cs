using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>
/// Options of one stage. In code they are the stage's defaults; configuration (<c>Pipelines:{name}:Stages:{stage}</c>) overrides
/// every value it sets. A value left <see langword="null"/> takes the engine's default.
/// </summary>
public sealed class StageOptions
{
    /// <summary>The smallest allowed <see cref="Parallelism"/>.</summary>
    public const int MinParallelism = 1;

    /// <summary>The largest allowed <see cref="Parallelism"/>.</summary>
    public const int MaxParallelism = 1024;

    /// <summary>Gets or sets how many workers process the stage's input at once.</summary>
    /// <value>The default value is <see langword="null"/>, which means 1. Allowed: 1 to 1024. Sources and batching steps run one worker.</value>
    [SettingRange(MinParallelism, MaxParallelism)]
    public int? Parallelism { get; set; }

    /// <summary>Gets or sets whether a parallel stage emits its outputs in the order of its inputs.</summary>
    /// <value>The default value is <see langword="null"/>, which means <see langword="true"/>. Applies to transforms only.</value>
    public bool? Ordered { get; set; }

    /// <summary>
    /// Gets the settings of the stage's input handoff. Each member that is set (in code or by configuration) overrides the
    /// pipeline's handoff settings at the same level; a member never set is inherited (see <see cref="HandoffOptions"/>).
    /// </summary>
    /// <value>No member is set: every one is inherited from the pipeline.</value>
    public HandoffOptions Handoff { get; private set; } = new();

    /// <summary>Gets or sets what the stage does with an item whose processing threw.</summary>
    /// <value>The default value is <see langword="null"/>, which means <see cref="StageErrorMode.Stop"/>.</value>
    public StageErrorMode? OnError { get; set; }

    /// <summary>Gets or sets the stage's resilience settings (retry, timeout).</summary>
    /// <value>The default value is <see langword="null"/> (none).</value>
#pragma warning disable SYSLIB1212 // Validated under its own configuration key by PipelineOptionsValidator, not as a member.
    public ResilienceSettings? Resilience { get; set; }
#pragma warning restore SYSLIB1212

    /// <summary>The default of <see cref="FailureRatioMinimumItems"/>.</summary>
    public const int DefaultFailureRatioMinimumItems = 100;

    /// <summary>
    /// Gets or sets how many items may fail in the stage during one run: the failure past it faults the pipeline with a message
    /// naming the stage, the count and the limit. Counts every failed item, whatever <see cref="OnError"/> did with it.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no limit). Allowed: 0 or more.</value>
    [SettingRange(0)]
    public long? MaxFailures { get; set; }

    /// <summary>
    /// Gets or sets the largest share of the stage's items (failed ÷ taken in) that may fail during one run, checked once the stage
    /// has taken <see cref="FailureRatioMinimumItems"/> items: a failure past it faults the pipeline with a message naming the
    /// stage, the ratio and the limit.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no limit). Allowed: 0 to 1.</value>
    [SettingRange(0, 1)]
    public double? MaxFailureRatio { get; set; }

    /// <summary>Gets or sets how many items the stage must have taken in before <see cref="MaxFailureRatio"/> applies.</summary>
    /// <value>The default value is <see langword="null"/>, which means 100. Allowed: 1 or more.</value>
    [SettingRange(1)]
    public int? FailureRatioMinimumItems { get; set; }

    internal StageOptions Clone() => new()
    {
        MaxFailures = MaxFailures,
        MaxFailureRatio = MaxFailureRatio,
        FailureRatioMinimumItems = FailureRatioMinimumItems,
        Parallelism = Parallelism,
        Ordered = Ordered,
        Handoff = Handoff.Clone(),
        OnError = OnError,
        Resilience = Resilience,
        FileSource = FileSource,
    };

    /// <summary>The settings of a file source stage read from configuration; <see langword="null"/> for other stages.</summary>
    internal FileSourceOverrides? FileSource { get; set; }
}
