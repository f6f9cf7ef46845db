using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Pipeline;

/// <summary>
/// The telemetry of each call of stage code: the <c>pipeline.stage.duration</c> histogram, recorded only while a listener has it
/// enabled (no timestamp is taken otherwise).
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

    /// <summary>Begins timing one call of stage code; returns 0 (nothing to record) when no listener has the histogram enabled.</summary>
    internal long BeginCall() => _durationHistogram is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Ends the call that <see cref="BeginCall"/> began at <paramref name="started"/>.</summary>
    internal void EndCall(long started, bool succeeded)
    {
        if (started != 0)
        {
            _durationHistogram!.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, succeeded ? _processedTags : _failedTags);
        }
    }

    private void InitializeTelemetry()
    {
        _durationHistogram = Lifecycle.Metrics?.StageDuration;
        _processedTags = Tags(ProcessedOutcome);
        _failedTags = Tags(FailedOutcome);

        KeyValuePair<string, object?>[] Tags(string outcome) =>
        [
            new(PipelineMetrics.PipelineTag, Lifecycle.PipelineName),
            new(PipelineMetrics.StageTag, Name),
            new(PipelineMetrics.OutcomeTag, outcome),
        ];
    }
}
