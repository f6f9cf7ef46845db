using System.Diagnostics;

namespace Pipeline;

/// <summary>
/// The <c>Pipeline</c> activity source: one activity per run, from start to drained, tagged with <c>pipeline.name</c> and the outcome, with one
/// <c>pipeline.stage.ended</c> event per stage holding its counts; and, for the items sampled by <see cref="TracingSettings.SampleRatio"/>
/// only, one activity per call of stage code (an item not sampled costs nothing). Tag keys are fixed: <c>pipeline.name</c>,
/// <c>pipeline.stage</c>, <c>pipeline.outcome</c>, <c>pipeline.status</c>, <c>pipeline.bottleneck</c>.
/// </summary>
internal static class PipelineActivity
{
    public const string SourceName = "Pipeline";

    private static readonly ActivitySource s_source = new(SourceName);

    /// <summary>Whether anything listens to the activity source (a cheap check before sampling an item).</summary>
    public static bool HasListeners => s_source.HasListeners();

    /// <summary>
    /// Starts the activity of one call of stage code on a traced item, child of <paramref name="parent"/>, and makes it current for
    /// the call; <see langword="null"/> when no listener records it.
    /// </summary>
    public static Activity? StartItem(string activityName, string pipelineName, string stageName, in ActivityContext parent)
    {
        var activity = s_source.StartActivity(activityName, ActivityKind.Internal, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(PipelineMetrics.PipelineTag, pipelineName);
            activity.SetTag(PipelineMetrics.StageTag, stageName);
        }

        return activity;
    }

    /// <summary>Ends an item's activity with the call's outcome.</summary>
    public static void StopItem(Activity activity, Exception? error)
    {
        if (activity.IsAllDataRequested)
        {
            activity.SetTag(PipelineMetrics.OutcomeTag, error is null ? StageRunner.ProcessedOutcome : StageRunner.FailedOutcome);
            if (error is not null)
            {
                activity.SetStatus(ActivityStatusCode.Error, error.Message);
            }
        }

        activity.Dispose();
    }

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
