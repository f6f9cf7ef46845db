namespace Pipeline;

/// <summary>One dead letter read back from a dead-letter file, its item typed.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class DeadLetterEntry<T>
{
    internal DeadLetterEntry(T? item, string? pipelineName, string? stageName, string? reason, string? errorType, string? errorMessage,
        int attempts, DateTimeOffset timestamp, long lineNumber, long startOffset, long endOffset)
    {
        Item = item;
        PipelineName = pipelineName;
        StageName = stageName;
        Reason = reason;
        ErrorType = errorType;
        ErrorMessage = errorMessage;
        Attempts = attempts;
        Timestamp = timestamp;
        LineNumber = lineNumber;
        StartOffset = startOffset;
        EndOffset = endOffset;
    }

    /// <summary>Gets the item; <see langword="default"/> when the line holds <c>null</c>.</summary>
    public T? Item { get; }

    /// <summary>Gets the pipeline's name (<c>pipeline</c>).</summary>
    public string? PipelineName { get; }

    /// <summary>Gets the stage that gave the item up (<c>stage</c>).</summary>
    public string? StageName { get; }

    /// <summary>Gets why the item was given up (<c>reason</c>), e.g. <c>Failed</c>.</summary>
    public string? Reason { get; }

    /// <summary>Gets the exception's full type name (<c>error</c>), or <see langword="null"/>.</summary>
    public string? ErrorType { get; }

    /// <summary>Gets the exception's message (<c>message</c>), or <see langword="null"/>.</summary>
    public string? ErrorMessage { get; }

    /// <summary>Gets how many times the stage tried the item (<c>attempts</c>; 1 for lines written before the count was recorded).</summary>
    public int Attempts { get; }

    /// <summary>Gets when the item was given up (<c>timestamp</c>, UTC).</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Gets the line's number in the file, from 1.</summary>
    public long LineNumber { get; }

    /// <summary>Gets the byte offset of the line's start in the file.</summary>
    public long StartOffset { get; }

    /// <summary>Gets the byte offset after the line's newline: where the next line starts.</summary>
    public long EndOffset { get; }
}
