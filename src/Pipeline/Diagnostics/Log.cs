using Microsoft.Extensions.Logging;

namespace Pipeline;

/// <summary>The engine's log messages; event ids are stable.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Pipeline {PipelineName}: stage {StageName} failed; the pipeline stops", EventName = "StageFaulted")]
    public static partial void StageFaulted(this ILogger logger, string pipelineName, string stageName, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "Pipeline {PipelineName}: stage {StageName} skipped an item that failed", EventName = "ItemSkipped")]
    public static partial void ItemSkipped(this ILogger logger, string pipelineName, string stageName, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Pipeline {PipelineName} started", EventName = "PipelineStarted")]
    public static partial void PipelineStarted(this ILogger logger, string pipelineName);

    [LoggerMessage(4, LogLevel.Information, "Pipeline {PipelineName} ended: {Status}; {Statistics}", EventName = "PipelineEnded")]
    public static partial void PipelineEnded(this ILogger logger, string pipelineName, PipelineStatus status, string statistics);

    [LoggerMessage(5, LogLevel.Critical, "Pipeline {PipelineName} faulted in stage {StageName}; stopping the application", EventName = "PipelineFaulted")]
    public static partial void PipelineFaulted(this ILogger logger, string pipelineName, string? stageName, Exception? exception);

    [LoggerMessage(7, LogLevel.Warning, "Pipeline {PipelineName}: stage {StageName} sent an item that failed to the dead-letter store", EventName = "ItemDeadLettered")]
    public static partial void ItemDeadLettered(this ILogger logger, string pipelineName, string stageName, Exception exception);

    [LoggerMessage(8, LogLevel.Error, "Pipeline {PipelineName} did not end within {GracePeriod} of being aborted; the host stops without it", EventName = "StopAbandoned")]
    public static partial void StopAbandoned(this ILogger logger, string pipelineName, TimeSpan gracePeriod);

    [LoggerMessage(6, LogLevel.Warning, "Pipeline {PipelineName} did not drain within the shutdown timeout; aborting", EventName = "DrainTimedOut")]
    public static partial void DrainTimedOut(this ILogger logger, string pipelineName);
}
