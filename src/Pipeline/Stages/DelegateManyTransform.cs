namespace Pipeline;

/// <summary>An <see cref="IManyTransform{TIn, TOut}"/> over a delegate that returns a sequence.</summary>
internal sealed class EnumerableDelegateManyTransform<TIn, TOut>(Func<TIn, IEnumerable<TOut>> transform) : IManyTransform<TIn, TOut>
{
    public ValueTask TransformAsync(TIn item, ICollection<TOut> output, CancellationToken cancellationToken)
    {
        foreach (var result in transform(item))
        {
            output.Add(result);
        }

        return default;
    }
}

/// <summary>An <see cref="IManyTransform{TIn, TOut}"/> over a delegate that adds to the output collection.</summary>
internal sealed class CollectingDelegateManyTransform<TIn, TOut>(Func<TIn, ICollection<TOut>, CancellationToken, ValueTask> transform)
    : IManyTransform<TIn, TOut>
{
    public ValueTask TransformAsync(TIn item, ICollection<TOut> output, CancellationToken cancellationToken) =>
        transform(item, output, cancellationToken);
}

/// <summary>Runs a one-to-one transform where a zero-or-more transform is expected (the ordered parallel path).</summary>
internal sealed class SingleAsManyTransform<TIn, TOut>(ITransform<TIn, TOut> transform) : IManyTransform<TIn, TOut>
{
    public async ValueTask TransformAsync(TIn item, ICollection<TOut> output, CancellationToken cancellationToken) =>
        output.Add(await transform.TransformAsync(item, cancellationToken).ConfigureAwait(false));
}
