using Polly.Telemetry;

namespace Pipeline;

/// <summary>
/// Passes the Polly telemetry events of a stage pipeline the engine built on to Polly's own listener (its logs and its <c>Polly</c>
/// meter), except the events every call reports when it succeeds: the pipeline's executing event, its executed event and an
/// execution attempt, each below <see cref="ResilienceEventSeverity.Warning"/> and without an exception. Polly's listener formats
/// each event's result (boxing a value-type one) and builds its tags whether or not a log or meter listens, which made telemetry
/// cost more than the retry itself per call. Retries, failed attempts and executions, timeouts and circuit transitions still pass,
/// with the pipeline and stage as tags; the duration of every call is <c>pipeline.stage.duration</c>. Listeners added to Polly's
/// <c>TelemetryOptions.TelemetryListeners</c> sit behind Polly's listener, so they see the same events.
/// </summary>
internal sealed class PerCallQuietTelemetryListener(TelemetryListener inner) : TelemetryListener
{
    /// <inheritdoc/>
    public override void Write<TResult, TArgs>(in TelemetryEventArguments<TResult, TArgs> args)
    {
        if (IsEveryCall<TArgs>() && args.Event.Severity < ResilienceEventSeverity.Warning && args.Outcome?.Exception is null)
        {
            return;
        }

        inner.Write(in args);
    }

    /// <summary>Whether <typeparamref name="TArgs"/> are the arguments of an event Polly reports for every call (as Polly's own listener tells them apart).</summary>
    private static bool IsEveryCall<TArgs>() =>
        typeof(TArgs) == typeof(PipelineExecutingArguments)
        || typeof(TArgs) == typeof(PipelineExecutedArguments)
        || typeof(TArgs) == typeof(ExecutionAttemptArguments);
}
