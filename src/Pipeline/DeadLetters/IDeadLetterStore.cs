namespace Pipeline;

/// <summary>
/// Receives the items a pipeline gives up: those whose stage threw with <see cref="StageErrorMode.DeadLetter"/>, and, when a store
/// is present, those discarded because the pipeline faulted or was aborted. Register one in dependency injection to replace the
/// JSON-lines file that <c>Pipelines:{name}:DeadLetter:Path</c> selects. Called concurrently by parallel workers.
/// </summary>
public interface IDeadLetterStore
{
    /// <summary>Stores one dead letter.</summary>
    /// <param name="deadLetter">The item and why it was given up.</param>
    /// <param name="cancellationToken">
    /// Cancelled at the run's last moment: the host's shutdown deadline (or the end of the grace period after an abort), once the
    /// engine has given up what stage code still held. Not cancelled by the abort itself, whose discarded items still come here. A
    /// store may give up a write when it is cancelled; that item is then counted abandoned instead of dead-lettered.
    /// </param>
    /// <returns>A task that completes when the dead letter is stored.</returns>
    ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken);
}
