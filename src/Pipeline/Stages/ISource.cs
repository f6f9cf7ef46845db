namespace Pipeline;

/// <summary>The first stage of a pipeline: produces the items that the later stages process.</summary>
/// <typeparam name="T">The type of the items produced.</typeparam>
/// <remarks>
/// The engine asks for the next item only while the pipeline runs and everything downstream is ready.
/// When the pipeline is asked to stop, the token passed to <see cref="ReadAsync"/> is cancelled and the engine
/// asks for no further item; a source that waits for outside input should end its sequence (or throw
/// <see cref="OperationCanceledException"/>) when the token is cancelled. Every item it yields is delivered downstream.
/// A source may also implement <see cref="IStageLifecycle"/> to open and close resources.
/// </remarks>
public interface ISource<out T>
{
    /// <summary>Returns the sequence of items to process.</summary>
    /// <param name="stoppingToken">Cancelled when the pipeline is asked to stop.</param>
    /// <returns>The items, in the order they should enter the pipeline.</returns>
    IAsyncEnumerable<T> ReadAsync(CancellationToken stoppingToken);
}
