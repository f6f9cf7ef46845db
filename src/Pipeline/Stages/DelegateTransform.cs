namespace Pipeline;

/// <summary>An <see cref="ITransform{TIn, TOut}"/> over a synchronous delegate.</summary>
internal sealed class SyncDelegateTransform<TIn, TOut>(Func<TIn, TOut> transform) : ITransform<TIn, TOut>
{
    /// <summary>The delegate, for runners that call it directly instead of through a <see cref="ValueTask{TResult}"/>.</summary>
    public Func<TIn, TOut> Function { get; } = transform;

    public ValueTask<TOut> TransformAsync(TIn item, CancellationToken cancellationToken) => new(Function(item));
}

/// <summary>An <see cref="ITransform{TIn, TOut}"/> over an asynchronous delegate.</summary>
internal sealed class AsyncDelegateTransform<TIn, TOut>(Func<TIn, CancellationToken, ValueTask<TOut>> transform) : ITransform<TIn, TOut>
{
    public ValueTask<TOut> TransformAsync(TIn item, CancellationToken cancellationToken) => transform(item, cancellationToken);
}
