using System.Diagnostics;

namespace Pipeline;

/// <summary>
/// The <c>Pipeline</c> activity source: one activity per run, from start to drained, tagged with the outcome and each stage's
/// counts. Per-item activities would cost an allocation per item, so items are counted, not traced.
/// </summary>
internal static class PipelineActivity
{
    public const string SourceName = "Pipeline";

    private static readonly ActivitySource s_source = new(SourceName);

    /// <summary>Starts the run's activity; <see langword="null"/> when nobody listens.</summary>
    public static Activity? StartRun(string pipelineName)
    {
        var activity = s_source.StartActivity($"pipeline {pipelineName}", ActivityKind.Internal);
        activity?.SetTag("pipeline.name", pipelineName);
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
            activity.SetTag($"pipeline.stage.{stage.StageName}", stage.ToString());
        }

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
