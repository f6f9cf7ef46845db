namespace Pipeline;

/// <summary>A stage that turns each input item into exactly one output item.</summary>
/// <typeparam name="TIn">The type of the input items.</typeparam>
/// <typeparam name="TOut">The type of the output items.</typeparam>
/// <remarks>
/// With <see cref="StageOptions.Parallelism"/> above 1 the engine calls <see cref="TransformAsync"/> from several workers at once,
/// so an implementation must then be safe for concurrent use. A transform may also implement <see cref="IStageLifecycle"/>.
/// </remarks>
public interface ITransform<in TIn, TOut>
{
    /// <summary>Transforms one item.</summary>
    /// <param name="item">The input item.</param>
    /// <param name="cancellationToken">Cancelled only when the pipeline is aborted; a graceful stop lets work in flight finish.</param>
    /// <returns>The output item.</returns>
    ValueTask<TOut> TransformAsync(TIn item, CancellationToken cancellationToken);
}
