namespace Pipeline;

/// <summary>An item that the pipeline could not process, with why: written to the dead-letter store instead of being lost unseen.</summary>
public sealed class DeadLetter
{
    /// <summary>Initializes a dead letter.</summary>
    /// <param name="pipelineName">The pipeline's name.</param>
    /// <param name="stageName">The stage that gave the item up.</param>
    /// <param name="item">The item.</param>
    /// <param name="reason">
    /// Why: <c>Failed</c> (the stage threw), <c>Discarded</c> (the pipeline faulted or was aborted before the stage handed the item on: it
    /// had not processed it, or, in an ordered stage with a parallelism above 1, its outputs were held back behind an earlier item that failed) or
    /// <c>ShutdownTimeout</c> (not delivered by the host's shutdown deadline).
    /// </param>
    /// <param name="exception">The stage's exception, or the fault that stopped the pipeline; <see langword="null"/> when the run was aborted.</param>
    /// <param name="timestamp">When the item was given up.</param>
    public DeadLetter(string pipelineName, string stageName, object? item, string reason, Exception? exception, DateTimeOffset timestamp)
    {
        PipelineName = pipelineName;
        StageName = stageName;
        Item = item;
        Reason = reason;
        Exception = exception;
        Timestamp = timestamp;
    }

    /// <summary>Gets the pipeline's name.</summary>
    public string PipelineName { get; }

    /// <summary>Gets the stage that gave the item up.</summary>
    public string StageName { get; }

    /// <summary>Gets the item.</summary>
    public object? Item { get; }

    /// <summary>Gets why the item was given up: <c>Failed</c>, <c>Discarded</c> or <c>ShutdownTimeout</c>.</summary>
    public string Reason { get; }

    /// <summary>Gets the exception, if any.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets when the item was given up.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Gets how many times the stage tried the item, retries included.</summary>
    /// <value>The default value is 1. Allowed: 1 or more.</value>
    /// <exception cref="ArgumentOutOfRangeException">Thrown by the initializer when the value is less than 1.</exception>
    public int Attempts
    {
        get => _attempts;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Attempts));
            _attempts = value;
        }
    }

    private readonly int _attempts = 1;
}
