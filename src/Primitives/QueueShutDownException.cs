namespace Pipeline.Primitives;

/// <summary>Thrown by <see cref="BoundedQueue{T}"/> puts after shutdown, and by takes once a shut-down queue is empty.</summary>
public sealed class QueueShutDownException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public QueueShutDownException()
        : base("The queue is shut down.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public QueueShutDownException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public QueueShutDownException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
