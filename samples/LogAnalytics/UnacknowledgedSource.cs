using System.Runtime.CompilerServices;
using Pipeline;

namespace LogAnalytics;

/// <summary>An acknowledging source read as a plain one: its items without positions, never acknowledged (its checkpoint stays).</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="source">The acknowledging source.</param>
internal sealed class UnacknowledgedSource<T>(IAcknowledgingSource<T> source) : ISource<T>
{
    /// <inheritdoc/>
    public async IAsyncEnumerable<T> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        await foreach (var positioned in source.ReadAsync(stoppingToken).ConfigureAwait(false))
        {
            yield return positioned.Item;
        }
    }
}
