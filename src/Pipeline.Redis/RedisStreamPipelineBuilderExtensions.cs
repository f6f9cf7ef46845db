namespace Pipeline.Redis;

/// <summary>Starts a pipeline from a Redis stream or ends it into one.</summary>
public static class RedisStreamPipelineBuilderExtensions
{
    /// <summary>
    /// Starts the pipeline with the <see cref="RedisStreamSource{T}"/> registered for it by
    /// <see cref="Microsoft.Extensions.DependencyInjection.RedisStreamServiceCollectionExtensions.AddRedisStreamSource{T}"/>, created
    /// for each run; its entries are acknowledged as the engine accounts for their items.
    /// </summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="builder">The pipeline's builder.</param>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    public static PipelineBuilder<T> FromRedisStream<T>(this PipelineBuilder builder, string name, Action<StageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.FromAcknowledging<RedisStreamSource<T>, T>(name, configure);
    }

    /// <summary>Starts the pipeline with <paramref name="source"/>, used by every run.</summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="builder">The pipeline's builder.</param>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="source">The source.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> or <paramref name="source"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    public static PipelineBuilder<T> FromRedisStream<T>(this PipelineBuilder builder, string name, RedisStreamSource<T> source, Action<StageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        return builder.From(name, source, configure);
    }

    /// <summary>
    /// Ends the pipeline with the <see cref="RedisStreamSink{T}"/> registered for it by
    /// <see cref="Microsoft.Extensions.DependencyInjection.RedisStreamServiceCollectionExtensions.AddRedisStreamSink{T}"/>: one
    /// <c>XADD</c> per item, in order with the default <c>Parallelism</c> of 1 (a higher one pipelines more writes and gives up the
    /// order). For throughput with order, batch first and use <see cref="ToRedisStreamBatched{T}(PipelineBuilder{IReadOnlyList{T}}, string, Action{StageOptions})"/>.
    /// </summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="builder">The builder after the last transform.</param>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>The pipeline's builder, complete.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public static PipelineBuilder ToRedisStream<T>(this PipelineBuilder<T> builder, string name, Action<StageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.To<RedisStreamSink<T>>(name, configure);
    }

    /// <summary>
    /// Ends the pipeline with the <see cref="RedisStreamSink{T}"/> registered for it, taking batches (after a <c>Batch</c> step): each
    /// batch is written in order in one pipelined round trip (<see cref="RedisStreamSink{T}.WriteBatchAsync"/>).
    /// </summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="builder">The builder after a <c>Batch</c> step.</param>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>The pipeline's builder, complete.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public static PipelineBuilder ToRedisStreamBatched<T>(this PipelineBuilder<IReadOnlyList<T>> builder, string name, Action<StageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.To<RedisStreamBatchSink<T>>(name, configure);
    }
}
