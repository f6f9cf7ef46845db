using System.Diagnostics.Metrics;

namespace Pipeline;

/// <summary>
/// The <c>Pipeline</c> meter of one pipeline: items by stage and outcome, and the depth of every stage's input handoff. Every
/// instrument is observable, read from the run's counters when a listener collects, so the item path pays nothing for metrics.
/// </summary>
internal sealed class PipelineMetrics
{
    public const string MeterName = "Pipeline";

    private static readonly string[] s_outcomes = ["in", "out", "failed", "dropped", "dead_lettered"];

    /// <summary>
    /// One <see cref="PipelineMetrics"/> per meter: a meter factory hands out the same <see cref="Meter"/> for the same name and tags,
    /// so building the same pipeline twice on one service provider must reuse its instruments rather than add a second set
    /// (which would double every value). Keyed weakly, so it holds nothing alive; a cache, not state of the pipeline.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Meter, PipelineMetrics> s_byMeter = [];

    /// <summary>The run being measured; replaced when the pipeline runs again.</summary>
    private volatile PipelineRun? _run;

    private PipelineMetrics(Meter meter)
    {
        meter.CreateObservableCounter("pipeline.items", ObserveItems, unit: "{item}",
            description: "Items per stage and outcome: in, out, failed, dropped, dead_lettered.");
        meter.CreateObservableUpDownCounter("pipeline.handoff.depth", ObserveDepth, unit: "{item}",
            description: "Items waiting in each stage's input handoff.");
    }

    /// <summary>Returns the metrics of pipeline <paramref name="pipelineName"/> on <paramref name="meterFactory"/>, creating its instruments once.</summary>
    public static PipelineMetrics GetOrCreate(IMeterFactory meterFactory, string pipelineName)
    {
        var meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = [new("pipeline", pipelineName)] });
        return s_byMeter.GetValue(meter, static created => new PipelineMetrics(created));
    }

    public void Track(PipelineRun run) => _run = run;

    private IEnumerable<Measurement<long>> ObserveItems()
    {
        if (_run is not { } run)
        {
            yield break;
        }

        foreach (var stage in run.GetStatistics())
        {
            long[] values = [stage.In, stage.Out, stage.Failed, stage.Dropped, stage.DeadLettered];
            for (var index = 0; index < values.Length; index++)
            {
                yield return new Measurement<long>(values[index], new("stage", stage.StageName), new("outcome", s_outcomes[index]));
            }
        }
    }

    private IEnumerable<Measurement<int>> ObserveDepth()
    {
        if (_run is not { } run)
        {
            yield break;
        }

        foreach (var stage in run.Stages)
        {
            if (stage.InputDepth is { } depth)
            {
                yield return new Measurement<int>(depth, new KeyValuePair<string, object?>("stage", stage.Name));
            }
        }
    }
}
