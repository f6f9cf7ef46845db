namespace Pipeline.Primitives;

/// <summary>Thrown to every party of a <see cref="CyclicBarrier"/> that is broken: by a timeout, <see cref="CyclicBarrier.Abort"/>, <see cref="CyclicBarrier.Reset"/> or a failing action.</summary>
public sealed class BrokenBarrierException : Exception
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public BrokenBarrierException()
        : base("The barrier is broken.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public BrokenBarrierException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception that broke the barrier.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BrokenBarrierException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
