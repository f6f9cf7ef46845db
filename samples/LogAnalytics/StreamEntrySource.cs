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

    /// <summary>Gets this process's consumer name in the group.</summary>
    public string Consumer => stream.Consumer;

    /// <summary>Gets how many of the entries this process took are acknowledged in the group.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <inheritdoc/>
    public IAsyncEnumerable<PositionedItem<AccessLogEntry>> ReadAsync(CancellationToken stoppingToken) => stream.ReadAsync(stoppingToken);

    /// <inheritdoc/>
    public async ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken)
    {
        await stream.AcknowledgeAsync(position, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _acknowledged, Math.Max(Interlocked.Read(ref _acknowledged), position));
    }
}
