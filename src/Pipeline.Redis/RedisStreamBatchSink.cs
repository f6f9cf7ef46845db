namespace Pipeline.Redis;

/// <summary>A <see cref="RedisStreamSink{T}"/> seen as a sink of batches: each batch is one pipelined round trip, in order.</summary>
/// <typeparam name="T">The type of the items.</typeparam>
internal sealed class RedisStreamBatchSink<T>(RedisStreamSink<T> sink) : ISink<IReadOnlyList<T>>, IStageLifecycle
{
    public ValueTask WriteAsync(IReadOnlyList<T> item, CancellationToken cancellationToken) => sink.WriteBatchAsync(item, cancellationToken);

    public ValueTask StartAsync(CancellationToken cancellationToken) => sink.StartAsync(cancellationToken);

    public ValueTask StopAsync(CancellationToken cancellationToken) => sink.StopAsync(cancellationToken);
}
