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

    /// <summary>The run being measured; replaced when the pipeline runs again.</summary>
    private volatile PipelineRun? _run;

    public PipelineMetrics(IMeterFactory meterFactory, string pipelineName)
    {
        var meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = [new("pipeline", pipelineName)] });
        meter.CreateObservableCounter("pipeline.items", ObserveItems, unit: "{item}",
            description: "Items per stage and outcome: in, out, failed, dropped, dead_lettered.");
        meter.CreateObservableUpDownCounter("pipeline.handoff.depth", ObserveDepth, unit: "{item}",
            description: "Items waiting in each stage's input handoff.");
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
