using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Pipeline;

/// <summary>One call of stage code being timed and traced: its start timestamp (0: not timed) and its activity (traced items only).</summary>
internal readonly struct StageCall(long started, Activity? activity)
{
    public long Started { get; } = started;

    public Activity? Activity { get; } = activity;
}

/// <summary>
/// The telemetry of each call of stage code: the <c>pipeline.stage.duration</c> histogram, recorded only while a listener has it
/// enabled (no timestamp is taken otherwise), and, for a traced item, the call's activity.
/// </summary>
internal abstract partial class StageRunner
{
    /// <summary>The outcome tag of a call that returned.</summary>
    internal const string ProcessedOutcome = "processed";

    /// <summary>The outcome tag of a call that threw (timed out, or met an open circuit that fails fast).</summary>
    internal const string FailedOutcome = "failed";

    private Histogram<double>? _durationHistogram;
    private KeyValuePair<string, object?>[] _processedTags = [];
    private KeyValuePair<string, object?>[] _failedTags = [];
    private string _activityName = string.Empty;

    /// <summary>
    /// Begins one call of stage code on an item carrying <paramref name="trace"/>: takes a timestamp if a listener has the duration
    /// histogram enabled, and starts the call's activity (made current for the call) if the item is traced.
    /// </summary>
    internal StageCall BeginCall(ItemTrace? trace) => new(
        _durationHistogram is { Enabled: true } ? Stopwatch.GetTimestamp() : 0,
        trace is null ? null : PipelineActivity.StartItem(_activityName, Lifecycle.PipelineName, Name, trace.Parent));

    /// <summary>Ends <paramref name="call"/>; <paramref name="error"/> is what it threw (<see langword="null"/>: it returned).</summary>
    internal void EndCall(in StageCall call, Exception? error)
    {
        if (call.Started != 0)
        {
            _durationHistogram!.Record(Stopwatch.GetElapsedTime(call.Started).TotalSeconds, error is null ? _processedTags : _failedTags);
        }

        if (call.Activity is { } activity)
        {
            PipelineActivity.StopItem(activity, error);
        }
    }

    private void InitializeTelemetry()
    {
        _durationHistogram = Lifecycle.Metrics?.StageDuration;
        _processedTags = Tags(ProcessedOutcome);
        _failedTags = Tags(FailedOutcome);
        _activityName = $"stage {Name}";

        KeyValuePair<string, object?>[] Tags(string outcome) =>
        [
            new(PipelineMetrics.PipelineTag, Lifecycle.PipelineName),
            new(PipelineMetrics.StageTag, Name),
            new(PipelineMetrics.OutcomeTag, outcome),
        ];
    }
}
