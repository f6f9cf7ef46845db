using Polly;

namespace Pipeline;

/// <summary>Runs a transform through the stage's resilience pipeline.</summary>
internal sealed class ResilientTransform<TIn, TOut>(ITransform<TIn, TOut> inner, ResiliencePipeline resilience) : ITransform<TIn, TOut>
{
    public ValueTask<TOut> TransformAsync(TIn item, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync(
            static (state, token) => state.inner.TransformAsync(state.item, token),
            (inner, item),
            cancellationToken);
}

/// <summary>Runs a zero-or-more transform through the stage's resilience pipeline; each attempt starts with an empty output.</summary>
internal sealed class ResilientManyTransform<TIn, TOut>(IManyTransform<TIn, TOut> inner, ResiliencePipeline resilience) : IManyTransform<TIn, TOut>
{
    public ValueTask TransformAsync(TIn item, ICollection<TOut> output, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync(
            static (state, token) =>
            {
                state.output.Clear();
                return state.inner.TransformAsync(state.item, state.output, token);
            },
            (inner, item, output),
            cancellationToken);
}

/// <summary>Runs a sink through the stage's resilience pipeline.</summary>
internal sealed class ResilientSink<T>(ISink<T> inner, ResiliencePipeline resilience) : ISink<T>
{
    public ValueTask WriteAsync(T item, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync(
            static (state, token) => state.inner.WriteAsync(state.item, token),
            (inner, item),
            cancellationToken);
}
