using Microsoft.Extensions.Logging;

namespace Pipeline.Redis;

/// <summary>The Redis stream boundary's log messages; event ids are stable.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Redis {Operation} failed (attempt {Attempt}); retrying in {Delay}", EventName = "RedisRetrying")]
    public static partial void RedisRetrying(this ILogger logger, string operation, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(2, LogLevel.Information, "Stream {Stream}, group {Group}: consumer {Consumer} claimed {Count} entries idle for {ClaimIdleTime} or more", EventName = "EntriesClaimed")]
    public static partial void EntriesClaimed(this ILogger logger, string stream, string group, string consumer, int count, TimeSpan claimIdleTime);

    [LoggerMessage(3, LogLevel.Warning, "Stream {Stream}, group {Group}: entry {EntryId} was delivered {Deliveries} times without being acknowledged; dead-lettered", EventName = "EntryDeadLettered")]
    public static partial void EntryDeadLettered(this ILogger logger, string stream, string group, string entryId, long deliveries);

    [LoggerMessage(10, LogLevel.Warning, "Stream {Stream}, group {Group}: entry {EntryId} cannot be read as an item ({Problem}); dead-lettered", EventName = "EntryUnreadable")]
    public static partial void EntryUnreadable(this ILogger logger, string stream, string group, string entryId, string problem);

    [LoggerMessage(4, LogLevel.Error, "Stream {Stream}, group {Group}: entry {EntryId} cannot be processed ({Reason}) and there is no dead-letter store; it stays pending", EventName = "EntryParked")]
    public static partial void EntryParked(this ILogger logger, string stream, string group, string entryId, string reason);

    [LoggerMessage(5, LogLevel.Information, "Stream {Stream}, group {Group}: created the group (and the stream if missing)", EventName = "GroupCreated")]
    public static partial void GroupCreated(this ILogger logger, string stream, string group);

    [LoggerMessage(6, LogLevel.Debug, "Stream {Stream}: trimmed {Count} entries every group had acknowledged", EventName = "EntriesTrimmed")]
    public static partial void EntriesTrimmed(this ILogger logger, string stream, long count);

    [LoggerMessage(7, LogLevel.Warning, "Stream {Stream}: trimming acknowledged entries failed", EventName = "TrimFailed")]
    public static partial void TrimFailed(this ILogger logger, string stream, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Stream {Stream}: trimming is off for this source (the server rejected XTRIM MINID, which needs Redis 6.2 or later); the stream keeps acknowledged entries", EventName = "TrimDisabled")]
    public static partial void TrimDisabled(this ILogger logger, string stream);

    [LoggerMessage(9, LogLevel.Error, "Stream {Stream}, group {Group}: the group is gone from the server, which lost its data (restarted without persistence, failed over, or the key was deleted); entries written and not yet processed may be lost. Creating the group again. Run Redis with persistence (appendonly yes) for data you cannot lose", EventName = "GroupLost")]
    public static partial void GroupLost(this ILogger logger, string stream, string group);
}
