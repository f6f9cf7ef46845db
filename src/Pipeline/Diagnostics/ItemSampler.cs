using System.Diagnostics;

namespace Pipeline;

/// <summary>
/// Decides, for each item a source yields, whether it is traced (<see cref="TracingSettings.SampleRatio"/>); one per run. An item
/// that is not traced carries nothing; a traced one carries an <see cref="ItemTrace"/>: the run's one shared instance, or, when the
/// source supplied a trace context, its own.
/// </summary>
internal sealed class ItemSampler(double ratio, ActivityContext runContext)
{
    private readonly ItemTrace _underRun = new(runContext);
    private double _ratio = ratio;

    /// <summary>Gets or sets the share of items traced, 0 to 1; a configuration reload changes it while the run goes on.</summary>
    public double Ratio
    {
        get => Volatile.Read(ref _ratio);
        set => Volatile.Write(ref _ratio, value);
    }

    /// <summary>Returns the trace of the item carrying <paramref name="carried"/> (default: none), or <see langword="null"/> when it is not sampled.</summary>
    public ItemTrace? Sample(in ActivityContext carried)
    {
        var ratio = Ratio;
        if (ratio <= 0 || !PipelineActivity.HasListeners || (ratio < 1 && Random.Shared.NextDouble() >= ratio))
        {
            return null;
        }

        return carried == default ? _underRun : new ItemTrace(carried);
    }
}

/// <summary>The parent of a traced item's stage activities: the run's activity, or the trace context its source item carried.</summary>
internal sealed class ItemTrace(ActivityContext parent)
{
    public ActivityContext Parent { get; } = parent;
}
