namespace Pipeline;

/// <summary>The last stage of a pipeline: consumes every item that reaches it.</summary>
/// <typeparam name="T">The type of the items consumed.</typeparam>
/// <remarks>
/// A sink that buffers (a database batch, a file) implements <see cref="IStageLifecycle"/> and flushes in
/// <see cref="IStageLifecycle.StopAsync"/>, which the engine calls after the sink's input has drained.
/// </remarks>
public interface ISink<in T>
{
    /// <summary>Consumes one item.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancelled only when the pipeline is aborted.</param>
    /// <returns>A task that completes when the item has been consumed.</returns>
    ValueTask WriteAsync(T item, CancellationToken cancellationToken);
}
