using Polly.Telemetry;

namespace Pipeline;

/// <summary>
/// Passes a stage pipeline's Polly telemetry events on to Polly's own listener (its logs and its <c>Polly</c> meter), except the
/// events every call reports when nothing goes wrong: the pipeline's executing and executed events and a successful attempt, each
/// below <see cref="ResilienceEventSeverity.Warning"/>. Polly's listener formats each event's result (boxing a value-type one) and
/// builds its tags whether or not a log or meter listens, which made telemetry cost more than the retry itself per call. Retries,
/// failed attempts, timeouts and circuit transitions still pass, with the pipeline and stage as tags; the duration of every call is
/// <c>pipeline.stage.duration</c>.
/// </summary>
internal sealed class PerCallQuietTelemetryListener(TelemetryListener inner) : TelemetryListener
{
    /// <summary>The names Polly gives the events of every call (Polly.Core's <c>PipelineExecuting</c>, <c>PipelineExecuted</c>, <c>ExecutionAttempt</c>).</summary>
    private static readonly HashSet<string> s_perCallEvents = new(StringComparer.Ordinal) { "PipelineExecuting", "PipelineExecuted", "ExecutionAttempt" };

    /// <inheritdoc/>
    public override void Write<TResult, TArgs>(in TelemetryEventArguments<TResult, TArgs> args)
    {
        if (args.Event.Severity < ResilienceEventSeverity.Warning && s_perCallEvents.Contains(args.Event.EventName))
        {
            return;
        }

        inner.Write(in args);
    }
}
