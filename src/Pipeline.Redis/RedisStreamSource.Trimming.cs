using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>Trimming: deleting the entries that every consumer group of the stream has acknowledged.</summary>
public sealed partial class RedisStreamSource<T>
{
    /// <summary>The shortest time between two trims of one source: at most one round trip a second.</summary>
    internal static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Computes, in one atomic step on the server, the smallest id any group of the stream still needs — its oldest pending entry,
    /// or, with none pending, the entry after the last one delivered to it — and deletes every entry below it (<c>XTRIM MINID</c>).
    /// A stream with no group is left alone. Returns the number of entries deleted.
    /// </summary>
    private const string TrimScript = """
        local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
        if #groups == 0 then return 0 end
        local function parse(id)
          local ms, seq = string.match(id, '^(%d+)-(%d+)$')
          return tonumber(ms), tonumber(seq)
        end
        local floorMs, floorSeq = nil, nil
        for _, group in ipairs(groups) do
          local info = {}
          for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
          local ms, seq
          if tonumber(info['pending']) > 0 then
            local summary = redis.call('XPENDING', KEYS[1], info['name'])
            ms, seq = parse(summary[2])
          else
            ms, seq = parse(info['last-delivered-id'])
            seq = seq + 1
          end
          if floorMs == nil or ms < floorMs or (ms == floorMs and seq < floorSeq) then
            floorMs, floorSeq = ms, seq
          end
        end
        return redis.call('XTRIM', KEYS[1], 'MINID', string.format('%.0f-%.0f', floorMs, floorSeq))
        """;

    /// <summary>When the next trim is due (a <see cref="TimeProvider"/> timestamp); 0 until the first.</summary>
    private long _nextTrimTimestamp;

    /// <summary>Set once trimming failed for good (e.g. a server older than 6.2, without <c>XTRIM MINID</c>): no more attempts.</summary>
    private bool _trimDisabled;

    /// <summary>
    /// Deletes the entries every group of the stream has acknowledged, if <see cref="RedisStreamOptions.TrimAcknowledged"/> and
    /// <see cref="TrimInterval"/> has passed since the last trim. Never fails the caller: an error is logged, and one that is not an
    /// outage turns trimming off for this source.
    /// </summary>
    private async ValueTask TrimIfDueAsync(IDatabase database)
    {
        if (!_options.TrimAcknowledged || _trimDisabled)
        {
            return;
        }

        var now = TimeProvider.GetTimestamp();
        var due = Volatile.Read(ref _nextTrimTimestamp);
        if (now < due
            || Interlocked.CompareExchange(ref _nextTrimTimestamp, now + (long)(TrimInterval.TotalSeconds * TimeProvider.TimestampFrequency), due) != due)
        {
            // Not due, or another acknowledgement took this turn.
            return;
        }

        await TrimAcknowledgedAsync(database).ConfigureAwait(false);
    }

    /// <summary>Trims now (see <see cref="TrimScript"/>); returns the number of entries deleted, or -1 when the trim failed.</summary>
    internal async Task<long> TrimAcknowledgedAsync(IDatabase database)
    {
        try
        {
            var deleted = (long)await database.ScriptEvaluateAsync(TrimScript, [_stream]).ConfigureAwait(false);
            if (deleted > 0)
            {
                _logger.EntriesTrimmed(_options.Stream!, deleted);
            }

            return deleted;
        }
        catch (Exception exception) when (RedisRetry.IsTransient(exception))
        {
            // An outage: the next acknowledgement after the interval tries again.
            _logger.TrimFailed(_options.Stream!, exception);
            return -1;
        }
        catch (RedisServerException exception)
        {
            _trimDisabled = true;
            _logger.TrimFailed(_options.Stream!, exception);
            _logger.TrimDisabled(_options.Stream!);
            return -1;
        }
    }
}
