using System.Diagnostics;
using System.Runtime.CompilerServices;
using Pipeline;
using Pipeline.Redis;

namespace LogAnalytics;

/// <summary>
/// A consumer's read stage: the library's <see cref="RedisStreamSource{T}"/> over the stream's consumer group, passed through, and
/// counting what the engine acknowledged (each acknowledgement is an <c>XACK</c> of every entry yielded at or before it). Positions
/// are the Redis source's own (1, 2, 3, … per process), so the last acknowledged position is how many entries were acknowledged.
/// Thread-safety: as <see cref="RedisStreamSource{T}"/>.
/// </summary>
/// <param name="stream">The Redis source registered for the pipeline.</param>
internal sealed class StreamEntrySource(RedisStreamSource<AccessLogEntry> stream) : IAcknowledgingSource<AccessLogEntry>
{
    private long _acknowledged;
    private long _firstTakenTimestamp;

    /// <summary>Gets this process's consumer name in the group.</summary>
    public string Consumer => stream.Consumer;

    /// <summary>Gets how many of the entries this process took are acknowledged in the group: it sent their <c>XACK</c> and Redis replied.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>
    /// Gets how many of them were still pending when this process acknowledged them (<see cref="RedisStreamSource{T}.Acknowledged"/>);
    /// the others another consumer had claimed while this one held them past the claim idle time (a stall), and acknowledged first.
    /// Each entry is taken off the group's pending list once: across the group's consumers, these add up. Read after
    /// <see cref="Acknowledged"/>, it is at least that count less the entries acknowledged first by another consumer.
    /// </summary>
    public long AcknowledgedPending => stream.Acknowledged;

    /// <summary>Gets the <see cref="Stopwatch"/> timestamp at which the first entry was taken, or 0 while none has been: a consumer
    /// may wait long for its producer, and its throughput counts from here.</summary>
    public long FirstTakenTimestamp => Interlocked.Read(ref _firstTakenTimestamp);

    /// <inheritdoc/>
    public async IAsyncEnumerable<PositionedItem<AccessLogEntry>> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        await foreach (var entry in stream.ReadAsync(stoppingToken).ConfigureAwait(false))
        {
            if (_firstTakenTimestamp == 0)
            {
                Interlocked.Exchange(ref _firstTakenTimestamp, Stopwatch.GetTimestamp());
            }

            yield return entry;
        }
    }

    /// <inheritdoc/>
    public async ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken)
    {
        await stream.AcknowledgeAsync(position, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _acknowledged, Math.Max(Interlocked.Read(ref _acknowledged), position));
    }
}
