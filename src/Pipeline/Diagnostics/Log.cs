using Microsoft.Extensions.Logging;

namespace Pipeline;

/// <summary>The engine's log messages; event ids are stable.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Pipeline {PipelineName}: stage {StageName} failed; the pipeline stops", EventName = "StageFaulted")]
    public static partial void StageFaulted(this ILogger logger, string pipelineName, string stageName, Exception exception);


    [LoggerMessage(3, LogLevel.Information, "Pipeline {PipelineName} started", EventName = "PipelineStarted")]
    public static partial void PipelineStarted(this ILogger logger, string pipelineName);

    [LoggerMessage(4, LogLevel.Information, "Pipeline {PipelineName} ended: {Status}; {Statistics}", EventName = "PipelineEnded")]
    public static partial void PipelineEnded(this ILogger logger, string pipelineName, PipelineStatus status, string statistics);

    [LoggerMessage(15, LogLevel.Information, "Pipeline {PipelineName}: {Bottleneck}", EventName = "Bottleneck")]
    public static partial void Bottleneck(this ILogger logger, string pipelineName, string bottleneck);

    [LoggerMessage(16, LogLevel.Information, "Pipeline {PipelineName} progress: {Progress}", EventName = "Progress")]
    public static partial void Progress(this ILogger logger, string pipelineName, string progress);

    [LoggerMessage(5, LogLevel.Critical, "Pipeline {PipelineName} faulted in stage {StageName}; stopping the application", EventName = "PipelineFaulted")]
    public static partial void PipelineFaulted(this ILogger logger, string pipelineName, string? stageName, Exception? exception);


    [LoggerMessage(8, LogLevel.Error, "Pipeline {PipelineName} did not end within {GracePeriod} of being aborted; the host stops without it", EventName = "StopAbandoned")]
    public static partial void StopAbandoned(this ILogger logger, string pipelineName, TimeSpan gracePeriod);

    [LoggerMessage(6, LogLevel.Warning, "Pipeline {PipelineName} did not drain within the shutdown timeout; aborting", EventName = "DrainTimedOut")]
    public static partial void DrainTimedOut(this ILogger logger, string pipelineName);

    [LoggerMessage(2, LogLevel.Warning, "Pipeline {PipelineName}: stage {StageName}: an item failed and was {Outcome}", EventName = "ItemFailedWarning")]
    public static partial void ItemFailedWarning(this ILogger logger, string pipelineName, string stageName, string outcome, Exception exception);

    [LoggerMessage(7, LogLevel.Debug, "Pipeline {PipelineName}: stage {StageName}: an item failed and was {Outcome}", EventName = "ItemFailed")]
    public static partial void ItemFailed(this ILogger logger, string pipelineName, string stageName, string outcome, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "Pipeline {PipelineName}: {StageName}: {Count} more items {Outcome} in the last {Seconds:0} s, last: {ExceptionType}: {ExceptionMessage}", EventName = "ItemFailuresSummary")]
    public static partial void ItemFailuresSummary(this ILogger logger, string pipelineName, string stageName, long count, string outcome, double seconds, string exceptionType, string exceptionMessage);

    [LoggerMessage(10, LogLevel.Warning, "Pipeline {PipelineName}: stage {StageName}: {Count} items abandoned at the shutdown deadline (no dead-letter store)", EventName = "ItemsAbandoned")]
    public static partial void ItemsAbandoned(this ILogger logger, string pipelineName, string stageName, long count);

    [LoggerMessage(11, LogLevel.Warning, "Pipeline {PipelineName} stopped before its source ended: {ItemsRead} items read; the result is partial", EventName = "RunPartial")]
    public static partial void RunPartial(this ILogger logger, string pipelineName, long itemsRead);

    [LoggerMessage(12, LogLevel.Error, "Pipeline {PipelineName}: disposing {ObjectType} at the end of the run failed", EventName = "DisposeFailed")]
    public static partial void DisposeFailed(this ILogger logger, string pipelineName, string objectType, Exception exception);

    [LoggerMessage(13, LogLevel.Warning, "Pipeline {PipelineName} was abandoned at the shutdown deadline with stage code still running in {Stages}", EventName = "RunAbandoned")]
    public static partial void RunAbandoned(this ILogger logger, string pipelineName, string stages);

    [LoggerMessage(14, LogLevel.Error, "Pipeline {PipelineName}: the accounting does not balance: {Accounting}", EventName = "AccountingMismatch")]
    public static partial void AccountingMismatch(this ILogger logger, string pipelineName, string accounting);

    [LoggerMessage(17, LogLevel.Warning, "Pipeline {PipelineName}: stage {StageName}: circuit opened for {BreakDuration} after: {Reason}", EventName = "CircuitOpened")]
    public static partial void CircuitOpened(this ILogger logger, string pipelineName, string stageName, TimeSpan breakDuration, string? reason);

    [LoggerMessage(18, LogLevel.Information, "Pipeline {PipelineName}: stage {StageName}: circuit closed; items flow again", EventName = "CircuitClosed")]
    public static partial void CircuitClosed(this ILogger logger, string pipelineName, string stageName);

    [LoggerMessage(19, LogLevel.Information, "Pipeline {PipelineName}: configuration reloaded; now in force: {Applied}", EventName = "SettingsReloaded")]
    public static partial void SettingsReloaded(this ILogger logger, string pipelineName, string applied);

    [LoggerMessage(20, LogLevel.Warning, "Pipeline {PipelineName}: configuration changed where a running pipeline cannot follow; takes effect when it starts again (restart the host): {Keys}", EventName = "SettingsNeedRestart")]
    public static partial void SettingsNeedRestart(this ILogger logger, string pipelineName, string keys);

    [LoggerMessage(21, LogLevel.Error, "Pipeline {PipelineName}: reloaded configuration is invalid and was not applied; the running settings stay: {Errors}", EventName = "SettingsReloadRejected")]
    public static partial void SettingsReloadRejected(this ILogger logger, string pipelineName, string errors);

    [LoggerMessage(22, LogLevel.Warning, "Pipeline {PipelineName}: the shutdown deadline left no time to record the final acknowledgement; the source resumes from the one before, and items after it are read again", EventName = "FinalAcknowledgementMissed")]
    public static partial void FinalAcknowledgementMissed(this ILogger logger, string pipelineName);
}
