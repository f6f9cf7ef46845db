namespace Pipeline;

/// <summary>An <see cref="ISink{T}"/> over a synchronous delegate.</summary>
internal sealed class SyncDelegateSink<T>(Action<T> write) : ISink<T>
{
    /// <summary>The delegate, for runners that call it directly instead of through a <see cref="ValueTask"/>.</summary>
    public Action<T> Action { get; } = write;

    public ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        Action(item);
        return default;
    }
}

/// <summary>An <see cref="ISink{T}"/> over an asynchronous delegate.</summary>
internal sealed class AsyncDelegateSink<T>(Func<T, CancellationToken, ValueTask> write) : ISink<T>
{
    public ValueTask WriteAsync(T item, CancellationToken cancellationToken) => write(item, cancellationToken);
}
