namespace Pipeline;

/// <summary>Optional start and stop hooks of a stage: open a connection before the first item, flush after the last.</summary>
/// <remarks>
/// Stages start sink first: a stage's <see cref="StartAsync"/> runs only after every stage downstream of it has started, and the
/// source produces only after every stage has started. <see cref="StopAsync"/> runs once the stage's input has drained and
/// before the stage completes its output.
/// </remarks>
public interface IStageLifecycle
{
    /// <summary>Runs before the stage receives its first item.</summary>
    /// <param name="cancellationToken">Cancelled when the pipeline is aborted.</param>
    /// <returns>A task that completes when the stage is ready.</returns>
    ValueTask StartAsync(CancellationToken cancellationToken);

    /// <summary>Runs after the stage has processed its last item.</summary>
    /// <param name="cancellationToken">Cancelled when the pipeline is aborted.</param>
    /// <returns>A task that completes when the stage has flushed.</returns>
    ValueTask StopAsync(CancellationToken cancellationToken);
}
