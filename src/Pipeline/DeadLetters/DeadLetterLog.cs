using Microsoft.Extensions.Logging;

namespace Pipeline;

/// <summary>Log messages of dead-letter files and file sources; event ids are stable.</summary>
internal static partial class DeadLetterLog
{
    [LoggerMessage(101, LogLevel.Warning, "Dead-letter file {Path}: line {LineNumber} is not a complete JSON object (torn by a crash while it was written); skipped", EventName = "TornDeadLetterSkipped")]
    public static partial void TornLineSkipped(this ILogger logger, string path, long lineNumber);

    [LoggerMessage(111, LogLevel.Warning, "{Path}: checkpoint {CheckpointPath} names offset {Offset}, which is not in the current file; reading it from the start", EventName = "CheckpointNotApplicable")]
    public static partial void CheckpointNotApplicable(this ILogger logger, string path, string checkpointPath, long offset);

    [LoggerMessage(112, LogLevel.Information, "File source {Path}: the file was rotated; the old one is read to its end, then the new one from its start", EventName = "FileRotated")]
    public static partial void FileRotated(this ILogger logger, string path);

    [LoggerMessage(117, LogLevel.Debug, "File source {Path}: the path names a new file; the old one is read until it has had no new bytes for {Quiet}, as its writer may still append to it", EventName = "FileRotationSeen")]
    public static partial void FileRotationSeen(this ILogger logger, string path, TimeSpan quiet);

    [LoggerMessage(113, LogLevel.Warning, "File source {Path}: the file was truncated to {Length} bytes below the read offset {Offset}; reading it from the start", EventName = "FileTruncated")]
    public static partial void FileTruncated(this ILogger logger, string path, long length, long offset);

    [LoggerMessage(114, LogLevel.Warning, "File source {Path}: cannot watch the directory for changes; polling every {PollInterval}", EventName = "FileWatchUnavailable")]
    public static partial void FileWatchUnavailable(this ILogger logger, string path, TimeSpan pollInterval, Exception exception);

    [LoggerMessage(115, LogLevel.Warning, "{Path}: checkpoint {CheckpointPath} cannot be read; reading the file from the start", EventName = "CheckpointUnreadable")]
    public static partial void CheckpointUnreadable(this ILogger logger, string path, string checkpointPath, Exception exception);

    [LoggerMessage(118, LogLevel.Warning, "{Path}: checkpoint {CheckpointPath} belongs to another file, {Source}; reading this one from the start (give each input a checkpoint of its own)", EventName = "CheckpointOfOtherFile")]
    public static partial void CheckpointOfOtherFile(this ILogger logger, string path, string checkpointPath, string source);

    [LoggerMessage(116, LogLevel.Information, "File source {Path}: checkpoint {CheckpointPath} belongs to the rotated file {RotatedPath}; reading it from offset {Offset} to its end, then the file from its start", EventName = "CheckpointInRotatedFile")]
    public static partial void CheckpointInRotatedFile(this ILogger logger, string path, string checkpointPath, string rotatedPath, long offset);
}
