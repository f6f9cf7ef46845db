namespace Pipeline;

/// <summary>A stage that turns each input item into zero or more output items.</summary>
/// <typeparam name="TIn">The type of the input items.</typeparam>
/// <typeparam name="TOut">The type of the output items.</typeparam>
/// <remarks>
/// The engine passes a collection that it reuses between calls, so that producing outputs allocates nothing per item.
/// The outputs of one input are sent downstream only after <see cref="TransformAsync"/> returns successfully; if it throws,
/// none of them is sent. With <see cref="StageOptions.Parallelism"/> above 1 calls run concurrently.
/// </remarks>
public interface IManyTransform<in TIn, TOut>
{
    /// <summary>Transforms one item into any number of outputs.</summary>
    /// <param name="item">The input item.</param>
    /// <param name="output">Receives the outputs of <paramref name="item"/>, in order; empty when the call starts.</param>
    /// <param name="cancellationToken">Cancelled only when the pipeline is aborted.</param>
    /// <returns>A task that completes when every output has been added.</returns>
    ValueTask TransformAsync(TIn item, ICollection<TOut> output, CancellationToken cancellationToken);
}
