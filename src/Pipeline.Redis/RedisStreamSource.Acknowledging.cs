using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>Acknowledging: the watermark to <c>XACK</c>, and entries given up to the dead-letter store.</summary>
public sealed partial class RedisStreamSource<T>
{
    /// <summary>The most ids one <c>XACK</c> carries.</summary>
    private const int MaxIdsPerAcknowledgement = 1_000;

    /// <summary>The sum of the replies of <see cref="AcknowledgeAsync"/>'s <c>XACK</c>s: how many entries they took off the pending list.</summary>
    private long _acknowledged;

    /// <summary>
    /// Gets how many of the entries this source yielded were still pending in the group when <see cref="AcknowledgeAsync"/>
    /// acknowledged them (the sum of <c>XACK</c>'s replies). An entry is taken off the group's pending list once, so across the
    /// group's consumers these add up to the entries acknowledged. The other entries this source acknowledged were processed twice: another
    /// consumer claimed them (this one had held them longer than <see cref="RedisStreamOptions.ClaimIdleTime"/>, e.g. stalled) and
    /// acknowledged them first.
    /// </summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Acknowledges (<c>XACK</c>) every entry this source yielded at or before <paramref name="position"/>.</summary>
    /// <param name="position">The position of an item this source yielded.</param>
    /// <param name="cancellationToken">Cancelled when the pipeline is aborted: ends the retries of an outage (the entries stay pending).</param>
    /// <returns>A task that completes when Redis has recorded the acknowledgement.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="position"/> is not positive.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled while Redis is unreachable.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the source has not been read yet.</exception>
    public async ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(position);
        var database = _database.Current
            ?? throw new InvalidOperationException("The source has yielded nothing to acknowledge: it has not been read.");
        var ids = new List<RedisValue>();
        lock (_sync)
        {
            foreach (var (entryPosition, id) in _unacknowledged)
            {
                if (entryPosition > position)
                {
                    break;
                }

                ids.Add(id);
            }
        }

        for (var start = 0; start < ids.Count; start += MaxIdsPerAcknowledgement)
        {
            var chunk = ids.GetRange(start, Math.Min(MaxIdsPerAcknowledgement, ids.Count - start)).ToArray();
            var acknowledged = await AcknowledgeIdsAsync(database, chunk, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _acknowledged, acknowledged);
            lock (_sync)
            {
                foreach (var id in chunk)
                {
                    _unacknowledged.Dequeue();
                    _held.Remove(id);
                }
            }
        }

        if (ids.Count > 0)
        {
            await TrimIfDueAsync(database).ConfigureAwait(false);
        }
    }

    private Task<long> AcknowledgeIdsAsync(IDatabase database, RedisValue[] ids, CancellationToken cancellationToken) =>
        RedisRetry.RunAsync(() => database.StreamAcknowledgeAsync(_stream, _group, ids), _logger, "XACK", TimeProvider, cancellationToken);

    private void Release(RedisValue id)
    {
        lock (_sync)
        {
            _held.Remove(id);
        }
    }

    /// <summary>Dead-letters <paramref name="entry"/> and acknowledges it; without a store, logs it and keeps it pending (held, never yielded).</summary>
    private async ValueTask GiveUpAsync(IDatabase database, StreamEntry entry, string reason, string message, int attempts, CancellationToken stoppingToken)
    {
        if (_deadLetters is null)
        {
            _logger.EntryParked(_options.Stream!, _options.Group!, entry.Id.ToString(), reason);
            lock (_sync)
            {
                _parked.Add(entry.Id);
            }

            return;
        }

        object? item = RedisStreamEntryFormat.TryRead(entry, _itemTypeInfo, out var typed, out _) ? typed : RedisStreamEntryFormat.RawItem(entry);
        var deadLetter = new DeadLetter(PipelineName ?? _options.Group!, _options.Stream!, item, reason,
            new InvalidOperationException(message), TimeProvider.GetUtcNow())
        {
            Attempts = Math.Max(1, attempts),
        };

        // Stored before acknowledged: a crash in between delivers the entry once more, never loses it.
        await _deadLetters.WriteAsync(deadLetter, CancellationToken.None).ConfigureAwait(false);
        if (reason == "Unreadable")
        {
            _logger.EntryUnreadable(_options.Stream!, _options.Group!, entry.Id.ToString(), message);
        }
        else
        {
            _logger.EntryDeadLettered(_options.Stream!, _options.Group!, entry.Id.ToString(), attempts);
        }
        await AcknowledgeIdsAsync(database, [entry.Id], stoppingToken).ConfigureAwait(false);
        Release(entry.Id);
    }
}
