using Pipeline;

namespace LogAnalytics;

/// <summary>
/// A consumer's dead-letter store: appends to a JSON-lines file of its own (so each consumer's count matches its file; the library's
/// store would also let processes share one file) and counts what it stored, whether a stage sent it (<c>OnError: DeadLetter</c>) or the Redis source gave up on an
/// entry (delivered more than <c>MaxDeliveries</c> times, or unreadable). Thread-safe.
/// </summary>
/// <param name="path">The file; its directory is created when missing.</param>
internal sealed class CountingDeadLetterStore(string path) : IDeadLetterStore, IAsyncDisposable
{
    private readonly JsonLinesDeadLetterStore _file = new(new DeadLetterSettings { Path = path });
    private long _count;

    /// <summary>Gets the full path of the file.</summary>
    public string Path => _file.Path;

    /// <summary>Gets how many dead letters this process stored.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <inheritdoc/>
    public async ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        await _file.WriteAsync(deadLetter, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _count);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _file.DisposeAsync();
}
