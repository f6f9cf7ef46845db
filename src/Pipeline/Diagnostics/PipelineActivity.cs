using System.Diagnostics;

namespace Pipeline;

/// <summary>
/// The <c>Pipeline</c> activity source: one activity per run, from start to drained, tagged with <c>pipeline.name</c> and the outcome, with one
/// <c>pipeline.stage.ended</c> event per stage holding its counts. Per-item activities would cost an allocation per item, so items are counted, not traced.
/// </summary>
internal static class PipelineActivity
{
    public const string SourceName = "Pipeline";

    private static readonly ActivitySource s_source = new(SourceName);

    /// <summary>Starts the run's activity; <see langword="null"/> when nobody listens.</summary>
    public static Activity? StartRun(string pipelineName)
    {
        var activity = s_source.StartActivity($"pipeline {pipelineName}", ActivityKind.Internal);
        activity?.SetTag(PipelineMetrics.PipelineTag, pipelineName);
        return activity;
    }

    public static void Stop(Activity? activity, PipelineResult result)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("pipeline.status", result.Status.ToString());
        foreach (var stage in result.Stages)
        {
            // One event per stage, with fixed tag keys (no key per stage name).
            activity.AddEvent(new ActivityEvent("pipeline.stage.ended", tags: new ActivityTagsCollection
            {
                [PipelineMetrics.StageTag] = stage.StageName,
                ["pipeline.items.taken"] = stage.In,
                ["pipeline.items.processed"] = stage.Out,
                ["pipeline.items.failed"] = stage.Failed,
                ["pipeline.items.dropped"] = stage.Dropped,
                ["pipeline.items.dead_lettered"] = stage.DeadLettered,
            }));
        }

        activity.SetTag("pipeline.bottleneck", result.Bottleneck.LimitingStage);

        if (result.Status == PipelineStatus.Faulted)
        {
            activity.SetStatus(ActivityStatusCode.Error, result.Exception?.Message);
            if (result.Exception is { } exception)
            {
                activity.AddException(exception);
            }
        }

        activity.Dispose();
    }
}
