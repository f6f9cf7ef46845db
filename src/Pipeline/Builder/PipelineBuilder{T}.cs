namespace Pipeline;

/// <summary>The builder after a stage that outputs <typeparamref name="T"/>: the next stage must take <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The type of the items the last stage outputs.</typeparam>
public sealed class PipelineBuilder<T>
{
    private readonly PipelineBuilder _pipeline;

    internal PipelineBuilder(PipelineBuilder pipeline)
    {
        _pipeline = pipeline;
    }

    /// <summary>Adds a one-to-one transform delegate.</summary>
    /// <typeparam name="TOut">The type of the outputs.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="transform">Turns one item into one output; called concurrently when the stage's parallelism is above 1.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="transform"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<TOut> Then<TOut>(string name, Func<T, TOut> transform, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(transform);
        var instance = new SyncDelegateTransform<T, TOut>(transform);
        return AddTransform<TOut>(name, configure, _ => instance);
    }

    /// <inheritdoc cref="Then{TOut}(string, Func{T, TOut}, Action{StageOptions})"/>
    public PipelineBuilder<TOut> Then<TOut>(string name, Func<T, TOut> transform)
        => Then<TOut>(name, transform, configure: null);

    /// <summary>Adds a one-to-one asynchronous transform delegate.</summary>
    /// <typeparam name="TOut">The type of the outputs.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="transform">Turns one item into one output; its token is cancelled only when the run is aborted.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="transform"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<TOut> Then<TOut>(string name, Func<T, CancellationToken, ValueTask<TOut>> transform, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(transform);
        var instance = new AsyncDelegateTransform<T, TOut>(transform);
        return AddTransform<TOut>(name, configure, _ => instance);
    }

    /// <inheritdoc cref="Then{TOut}(string, Func{T, CancellationToken, ValueTask{TOut}}, Action{StageOptions})"/>
    public PipelineBuilder<TOut> Then<TOut>(string name, Func<T, CancellationToken, ValueTask<TOut>> transform)
        => Then<TOut>(name, transform, configure: null);

    /// <summary>Adds a one-to-one transform object.</summary>
    /// <typeparam name="TOut">The type of the outputs.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="transform">The transform; may implement <see cref="IStageLifecycle"/>.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="transform"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<TOut> Then<TOut>(string name, ITransform<T, TOut> transform, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return AddTransform<TOut>(name, configure, _ => transform);
    }

    /// <inheritdoc cref="Then{TOut}(string, ITransform{T, TOut}, Action{StageOptions})"/>
    public PipelineBuilder<TOut> Then<TOut>(string name, ITransform<T, TOut> transform)
        => Then<TOut>(name, transform, configure: null);

    /// <summary>Adds a one-to-one transform class resolved from dependency injection for each run.</summary>
    /// <typeparam name="TTransform">The transform class: the registered service, or else created with its dependencies injected.</typeparam>
    /// <typeparam name="TOut">The type of the outputs.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<TOut> Then<TTransform, TOut>(string name, Action<StageOptions>? configure)
        where TTransform : class, ITransform<T, TOut> =>
        AddTransform<TOut>(name, configure, context => context.Resolve<TTransform>(name));

    /// <inheritdoc cref="Then{TTransform, TOut}(string, Action{StageOptions})"/>
    public PipelineBuilder<TOut> Then<TTransform, TOut>(string name)
        where TTransform : class, ITransform<T, TOut>
        => Then<TTransform, TOut>(name, configure: null);

    /// <summary>Adds a transform delegate that turns each item into zero or more outputs.</summary>
    /// <typeparam name="TOut">The type of the outputs.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="transform">Returns the outputs of one item, possibly none.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="transform"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<TOut> ThenMany<TOut>(string name, Func<T, IEnumerable<TOut>> transform, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(transform);
        var instance = new EnumerableDelegateManyTransform<T, TOut>(transform);
        return AddManyTransform<TOut>(name, configure, _ => instance);
    }

    /// <inheritdoc cref="ThenMany{TOut}(string, Func{T, IEnumerable{TOut}}, Action{StageOptions})"/>
    public PipelineBuilder<TOut> ThenMany<TOut>(string name, Func<T, IEnumerable<TOut>> transform)
        => ThenMany<TOut>(name, transform, configure: null);

    /// <summary>Adds an asynchronous transform delegate that adds zero or more outputs per item to a reused collection.</summary>
    /// <typeparam name="TOut">The type of the outputs.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="transform">Adds the outputs of one item to its second argument; its token is cancelled only when the run is aborted.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="transform"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<TOut> ThenMany<TOut>(string name, Func<T, ICollection<TOut>, CancellationToken, ValueTask> transform, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(transform);
        var instance = new CollectingDelegateManyTransform<T, TOut>(transform);
        return AddManyTransform<TOut>(name, configure, _ => instance);
    }

    /// <inheritdoc cref="ThenMany{TOut}(string, Func{T, ICollection{TOut}, CancellationToken, ValueTask}, Action{StageOptions})"/>
    public PipelineBuilder<TOut> ThenMany<TOut>(string name, Func<T, ICollection<TOut>, CancellationToken, ValueTask> transform)
        => ThenMany<TOut>(name, transform, configure: null);

    /// <summary>Adds a zero-or-more transform object.</summary>
    /// <typeparam name="TOut">The type of the outputs.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="transform">The transform; may implement <see cref="IStageLifecycle"/>.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="transform"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<TOut> ThenMany<TOut>(string name, IManyTransform<T, TOut> transform, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return AddManyTransform<TOut>(name, configure, _ => transform);
    }

    /// <inheritdoc cref="ThenMany{TOut}(string, IManyTransform{T, TOut}, Action{StageOptions})"/>
    public PipelineBuilder<TOut> ThenMany<TOut>(string name, IManyTransform<T, TOut> transform)
        => ThenMany<TOut>(name, transform, configure: null);

    /// <summary>Adds a zero-or-more transform class resolved from dependency injection for each run.</summary>
    /// <typeparam name="TTransform">The transform class: the registered service, or else created with its dependencies injected.</typeparam>
    /// <typeparam name="TOut">The type of the outputs.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<TOut> ThenMany<TTransform, TOut>(string name, Action<StageOptions>? configure)
        where TTransform : class, IManyTransform<T, TOut> =>
        AddManyTransform<TOut>(name, configure, context => context.Resolve<TTransform>(name));

    /// <inheritdoc cref="ThenMany{TTransform, TOut}(string, Action{StageOptions})"/>
    public PipelineBuilder<TOut> ThenMany<TTransform, TOut>(string name)
        where TTransform : class, IManyTransform<T, TOut>
        => ThenMany<TTransform, TOut>(name, configure: null);

    /// <summary>Adds a batching step: emits a batch when it holds <paramref name="size"/> items or when <paramref name="maxDelay"/> has passed since its first item, whichever comes first.</summary>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="size">The largest batch; at least 1.</param>
    /// <param name="maxDelay">How long the first item of a batch may wait for the batch to fill; above zero.</param>
    /// <param name="configure">Sets the stage's code options (its input handoff); configuration overrides them.</param>
    /// <returns>A builder for the next stage, which receives the batches.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="size"/> is below 1 or <paramref name="maxDelay"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder<IReadOnlyList<T>> Batch(string name, int size, TimeSpan maxDelay, Action<StageOptions>? configure)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxDelay, TimeSpan.Zero);
        var options = _pipeline.CreateStageOptions(name, StageKind.Batch, configure);
        _pipeline.Add(new BatchDefinition<T>(name, options, size, maxDelay), completes: false);
        return new PipelineBuilder<IReadOnlyList<T>>(_pipeline);
    }

    /// <inheritdoc cref="Batch(string, int, TimeSpan, Action{StageOptions})"/>
    public PipelineBuilder<IReadOnlyList<T>> Batch(string name, int size, TimeSpan maxDelay)
        => Batch(name, size, maxDelay, configure: null);

    /// <summary>Ends the pipeline with a sink delegate.</summary>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="sink">Consumes one item; called concurrently when the stage's parallelism is above 1.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>The pipeline's builder, complete.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="sink"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder To(string name, Action<T> sink, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var instance = new SyncDelegateSink<T>(sink);
        return AddSink(name, configure, _ => instance);
    }

    /// <inheritdoc cref="To(string, Action{T}, Action{StageOptions})"/>
    public PipelineBuilder To(string name, Action<T> sink)
        => To(name, sink, configure: null);

    /// <summary>Ends the pipeline with an asynchronous sink delegate.</summary>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="sink">Consumes one item; its token is cancelled only when the run is aborted.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>The pipeline's builder, complete.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="sink"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder To(string name, Func<T, CancellationToken, ValueTask> sink, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var instance = new AsyncDelegateSink<T>(sink);
        return AddSink(name, configure, _ => instance);
    }

    /// <inheritdoc cref="To(string, Func{T, CancellationToken, ValueTask}, Action{StageOptions})"/>
    public PipelineBuilder To(string name, Func<T, CancellationToken, ValueTask> sink)
        => To(name, sink, configure: null);

    /// <summary>Ends the pipeline with a sink object.</summary>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="sink">The sink; may implement <see cref="IStageLifecycle"/> to open and flush.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>The pipeline's builder, complete.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="sink"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder To(string name, ISink<T> sink, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(sink);
        return AddSink(name, configure, _ => sink);
    }

    /// <inheritdoc cref="To(string, ISink{T}, Action{StageOptions})"/>
    public PipelineBuilder To(string name, ISink<T> sink)
        => To(name, sink, configure: null);

    /// <summary>Ends the pipeline with a sink class resolved from dependency injection for each run.</summary>
    /// <typeparam name="TSink">The sink class: the registered service, or else created with its dependencies injected.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>The pipeline's builder, complete.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used, or the options are out of range.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has its sink.</exception>
    public PipelineBuilder To<TSink>(string name, Action<StageOptions>? configure)
        where TSink : class, ISink<T> =>
        AddSink(name, configure, context => context.Resolve<TSink>(name));

    /// <inheritdoc cref="To{TSink}(string, Action{StageOptions})"/>
    public PipelineBuilder To<TSink>(string name)
        where TSink : class, ISink<T>
        => To<TSink>(name, configure: null);

    private PipelineBuilder<TOut> AddTransform<TOut>(string name, Action<StageOptions>? configure, Func<StageRunContext, ITransform<T, TOut>> factory)
    {
        var options = _pipeline.CreateStageOptions(name, StageKind.Transform, configure);
        _pipeline.Add(new TransformDefinition<T, TOut>(name, options, factory), completes: false);
        return new PipelineBuilder<TOut>(_pipeline);
    }

    private PipelineBuilder<TOut> AddManyTransform<TOut>(string name, Action<StageOptions>? configure, Func<StageRunContext, IManyTransform<T, TOut>> factory)
    {
        var options = _pipeline.CreateStageOptions(name, StageKind.Transform, configure);
        _pipeline.Add(new ManyTransformDefinition<T, TOut>(name, options, factory), completes: false);
        return new PipelineBuilder<TOut>(_pipeline);
    }

    private PipelineBuilder AddSink(string name, Action<StageOptions>? configure, Func<StageRunContext, ISink<T>> factory)
    {
        var options = _pipeline.CreateStageOptions(name, StageKind.Sink, configure);
        _pipeline.Add(new SinkDefinition<T>(name, options, factory), completes: true);
        return _pipeline;
    }
}
