using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>Fetching: own pending entries first, then new ones, claims of idle entries, and the idle backoff.</summary>
public sealed partial class RedisStreamSource<T>
{
    /// <summary>Creates the group (and the stream) if missing; returns <see langword="false"/> when stopped first.</summary>
    private async ValueTask<bool> CreateGroupAsync(IDatabase database, CancellationToken stoppingToken)
    {
        try
        {
            await RedisRetry.RunAsync(async () =>
            {
                try
                {
                    // From the stream's first entry: whatever a producer wrote before any consumer started belongs to the group.
                    await database.StreamCreateConsumerGroupAsync(_stream, _group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
                    _logger.GroupCreated(_options.Stream!, _options.Group!);
                }
                catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
                {
                    // It exists already.
                }

                return true;
            }, _logger, "XGROUP CREATE", TimeProvider, stoppingToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Returns the next entries to yield (possibly none), or <see langword="null"/> when stopped.</summary>
    private async ValueTask<List<(StreamEntry Entry, T Item)>?> FetchAsync(IDatabase database, ReadState reader, CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                StreamEntry[] entries;
                var claimed = false;
                if (reader.PendingCursor is { } cursor)
                {
                    entries = await ReadGroupAsync(database, cursor, reader, stoppingToken).ConfigureAwait(false);
                    if (entries.Length == 0)
                    {
                        reader.PendingCursor = null;
                        continue;
                    }

                    reader.PendingCursor = entries[^1].Id;
                }
                else if (TimeProvider.GetTimestamp() >= reader.NextClaimTimestamp)
                {
                    entries = await ClaimAsync(database, reader, stoppingToken).ConfigureAwait(false);
                    claimed = true;
                }
                else
                {
                    entries = await ReadGroupAsync(database, StreamPosition.NewMessages, reader, stoppingToken).ConfigureAwait(false);
                }

                // A new entry has been delivered once; only re-read and claimed ones need their count.
                var countDeliveries = claimed || reader.PendingCursor is not null;
                var accepted = await ScreenAsync(database, entries, countDeliveries, stoppingToken).ConfigureAwait(false);
                if (claimed && accepted.Count > 0)
                {
                    _logger.EntriesClaimed(_options.Stream!, _options.Group!, _options.Consumer, accepted.Count, _options.ClaimIdleTime);
                }

                if (accepted.Count > 0)
                {
                    reader.IdleDelay = MinPollDelay;
                    return accepted;
                }

                if (entries.Length == 0 && !claimed)
                {
                    await Task.Delay(reader.IdleDelay, TimeProvider, stoppingToken).ConfigureAwait(false);
                    reader.IdleDelay = TimeSpan.FromTicks(Math.Min(reader.IdleDelay.Ticks * 2, MaxPollDelay.Ticks));
                }
            }

            return null;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>XREADGROUP</c> from <paramref name="position"/>. A read that failed may have delivered entries whose reply was lost: they are
    /// pending with this consumer, so the next reads go through its pending entries again.
    /// </summary>
    private async Task<StreamEntry[]> ReadGroupAsync(IDatabase database, RedisValue position, ReadState reader, CancellationToken stoppingToken)
    {
        var attempts = 0;
        var entries = await RedisRetry.RunAsync(async () =>
        {
            attempts++;
            try
            {
                return await database.StreamReadGroupAsync(_stream, _group, _consumer, position, _options.BatchSize).ConfigureAwait(false);
            }
            catch (RedisServerException exception) when (exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                // The server lost its data (a restart without persistence, a failover to a replica that was behind, the key
                // deleted): entries written and not yet processed may be gone with it. Said loudly, then the group starts again
                // rather than the stage failing.
                _logger.GroupLost(_options.Stream!, _options.Group!);
                await database.StreamCreateConsumerGroupAsync(_stream, _group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
                _logger.GroupCreated(_options.Stream!, _options.Group!);
                return [];
            }
        }, _logger, "XREADGROUP", TimeProvider, stoppingToken).ConfigureAwait(false);
        if (attempts > 1 && position == StreamPosition.NewMessages)
        {
            reader.PendingCursor = StreamPosition.Beginning;
        }

        return entries;
    }

    /// <summary><c>XAUTOCLAIM</c> of entries idle longer than the claim idle time, one page; schedules the next scan when the page was the last.</summary>
    private async Task<StreamEntry[]> ClaimAsync(IDatabase database, ReadState reader, CancellationToken stoppingToken)
    {
        var result = await RedisRetry.RunAsync(
            () => database.StreamAutoClaimAsync(_stream, _group, _consumer, (long)_options.ClaimIdleTime.TotalMilliseconds, reader.ClaimCursor, _options.BatchSize),
            _logger, "XAUTOCLAIM", TimeProvider, stoppingToken).ConfigureAwait(false);
        if (result.IsNull)
        {
            reader.ClaimCursor = "0-0";
            reader.NextClaimTimestamp = TimeProvider.GetTimestamp() + ClaimScanInterval();
            return [];
        }

        reader.ClaimCursor = result.NextStartId;
        if (result.NextStartId == "0-0")
        {
            reader.NextClaimTimestamp = TimeProvider.GetTimestamp() + ClaimScanInterval();
        }

        return result.ClaimedEntries ?? [];
    }

    private long ClaimScanInterval() =>
        (long)(_options.ClaimIdleTime.TotalSeconds / 2 * TimeProvider.TimestampFrequency);

    /// <summary>
    /// Returns the entries to yield: not already held, with a readable item, delivered at most <see cref="RedisStreamOptions.MaxDeliveries"/>
    /// times. The others are dead-lettered and acknowledged (or parked without a store); deleted ones are acknowledged.
    /// </summary>
    private async ValueTask<List<(StreamEntry Entry, T Item)>> ScreenAsync(
        IDatabase database, StreamEntry[] entries, bool countDeliveries, CancellationToken stoppingToken)
    {
        var accepted = new List<(StreamEntry, T)>(entries.Length);
        if (entries.Length == 0)
        {
            return accepted;
        }

        var deliveries = countDeliveries ? await DeliveriesAsync(database, entries, stoppingToken).ConfigureAwait(false) : null;
        foreach (var entry in entries)
        {
            lock (_sync)
            {
                if (!_held.Add(entry.Id))
                {
                    continue;
                }
            }

            if (entry.IsNull || entry.Values is null || entry.Values.Length == 0)
            {
                // Deleted from the stream while pending: nothing left to process or lose.
                await AcknowledgeIdsAsync(database, [entry.Id], stoppingToken).ConfigureAwait(false);
                Release(entry.Id);
                continue;
            }

            var delivered = deliveries?.GetValueOrDefault(entry.Id, 1) ?? 1;
            if (delivered > _options.MaxDeliveries)
            {
                await GiveUpAsync(database, entry, "MaxDeliveries",
                    $"Entry {entry.Id} of stream '{_options.Stream}' was delivered {delivered - 1} times without being acknowledged (MaxDeliveries {_options.MaxDeliveries})",
                    (int)Math.Min(delivered - 1, int.MaxValue), stoppingToken).ConfigureAwait(false);
                continue;
            }

            if (!RedisStreamEntryFormat.TryRead(entry, _itemTypeInfo, out var item, out var error))
            {
                await GiveUpAsync(database, entry, "Unreadable", $"Entry {entry.Id} of stream '{_options.Stream}': {error}",
                    (int)Math.Min(delivered, int.MaxValue), stoppingToken).ConfigureAwait(false);
                continue;
            }

            accepted.Add((entry, item));
        }

        return accepted;
    }

    /// <summary>Returns how often each of <paramref name="entries"/> has been delivered, counting the delivery that just happened.</summary>
    private async ValueTask<Dictionary<RedisValue, long>> DeliveriesAsync(IDatabase database, StreamEntry[] entries, CancellationToken stoppingToken)
    {
        int held;
        lock (_sync)
        {
            held = _held.Count;
        }

        // The range may also hold entries this source is still processing: count them in so that none of these is cut off.
        var count = (int)Math.Min((long)entries.Length + held, int.MaxValue);
        var pending = await RedisRetry.RunAsync(
            () => database.StreamPendingMessagesAsync(_stream, _group, count, _consumer, entries[0].Id, entries[^1].Id),
            _logger, "XPENDING", TimeProvider, stoppingToken).ConfigureAwait(false);
        var deliveries = new Dictionary<RedisValue, long>(pending.Length);
        foreach (var message in pending)
        {
            deliveries[message.MessageId] = message.DeliveryCount;
        }

        return deliveries;
    }

    /// <summary>Where an enumeration is: reading own pending entries, or new ones with a claim scan now and then.</summary>
    private sealed class ReadState(long startTimestamp)
    {
        /// <summary>The id after which to read this consumer's pending entries; <see langword="null"/> once they are all read.</summary>
        public RedisValue? PendingCursor { get; set; } = StreamPosition.Beginning;

        /// <summary>Where the current <c>XAUTOCLAIM</c> scan continues; <c>0-0</c> starts a new one.</summary>
        public RedisValue ClaimCursor { get; set; } = "0-0";

        /// <summary>When the next claim scan is due (a <see cref="TimeProvider"/> timestamp); the first one is at once.</summary>
        public long NextClaimTimestamp { get; set; } = startTimestamp;

        /// <summary>The pause before the next poll of an empty stream.</summary>
        public TimeSpan IdleDelay { get; set; } = MinPollDelay;
    }
}
