namespace Pipeline;

/// <summary>
/// A source over a synchronous sequence. The engine enumerates <see cref="Items"/> directly rather than through
/// <see cref="IAsyncEnumerable{T}"/>, which saves an asynchronous step per item.
/// </summary>
internal sealed class EnumerableSource<T>(IEnumerable<T> items) : ISource<T>
{
    public IEnumerable<T> Items { get; } = items;

    public async IAsyncEnumerable<T> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stoppingToken)
    {
        foreach (var item in Items)
        {
            stoppingToken.ThrowIfCancellationRequested();
            yield return item;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
