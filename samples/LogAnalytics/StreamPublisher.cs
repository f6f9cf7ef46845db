using Pipeline;
using Pipeline.Redis;

namespace LogAnalytics;

/// <summary>
/// A producer's last stage: appends each batch of parsed requests to the Redis stream with the library's
/// <see cref="RedisStreamSink{T}"/> (one pipelined round trip per batch, in order) and counts them. A batch counts as written only once
/// Redis has stored all of it, and only then does the engine acknowledge its lines to the read stage's checkpoint: a producer killed
/// mid-run reads again only lines that may not be in the stream yet (a line appended twice is stored once, by the upsert).
/// Thread-safety: as <see cref="RedisStreamSink{T}"/>.
/// </summary>
/// <param name="stream">The Redis sink registered for the pipeline.</param>
internal sealed class StreamPublisher(RedisStreamSink<AccessLogEntry> stream) : ISink<IReadOnlyList<AccessLogEntry>>, IStageLifecycle
{
    private long _appended;

    /// <summary>Gets how many requests this process appended to the stream.</summary>
    public long Appended => Interlocked.Read(ref _appended);

    /// <inheritdoc/>
    public async ValueTask WriteAsync(IReadOnlyList<AccessLogEntry> item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        await stream.WriteBatchAsync(item, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _appended, item.Count);
    }

    /// <inheritdoc/>
    public ValueTask StartAsync(CancellationToken cancellationToken) => stream.StartAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask StopAsync(CancellationToken cancellationToken) => stream.StopAsync(cancellationToken);
}
