namespace Pipeline.Redis;

/// <summary>
/// Thrown when a Redis stream source or sink cannot connect at start. The message names the endpoints and the setting they come
/// from, never the connection string itself (which may hold a password); the client's own exception is not attached for the same
/// reason.
/// </summary>
public sealed class RedisUnavailableException : Exception
{
    /// <summary>Initializes the exception with its message.</summary>
    /// <param name="message">Names the endpoints, never the password.</param>
    public RedisUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes the exception with no message.</summary>
    public RedisUnavailableException()
    {
    }

    /// <summary>Initializes the exception with its message and cause.</summary>
    /// <param name="message">Names the endpoints, never the password.</param>
    /// <param name="innerException">The cause; must not carry the connection string.</param>
    public RedisUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
