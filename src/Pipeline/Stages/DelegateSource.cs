namespace Pipeline;

/// <summary>An <see cref="ISource{T}"/> over a delegate.</summary>
internal sealed class DelegateSource<T>(Func<CancellationToken, IAsyncEnumerable<T>> read) : ISource<T>
{
    public IAsyncEnumerable<T> ReadAsync(CancellationToken stoppingToken) => read(stoppingToken);
}
