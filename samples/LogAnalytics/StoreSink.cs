using Pipeline;

namespace LogAnalytics;

/// <summary>The store stage: writes each batch to the <see cref="RequestStore"/> in one transaction. Opened when the stage starts,
/// closed when it stops. Run with parallelism 1 (SQLite has one writer).</summary>
/// <param name="settings">Where the database is.</param>
public sealed class StoreSink(LogAnalyticsSettings settings) : ISink<IReadOnlyList<EnrichedRequest>>, IStageLifecycle
{
    private RequestStore? _store;

    /// <summary>Gets how many requests were stored as new rows.</summary>
    public long Inserted => _store?.Inserted ?? _inserted;

    /// <summary>Gets how many requests were already stored (re-delivered lines).</summary>
    public long AlreadyStored => _store?.AlreadyStored ?? _alreadyStored;

    private long _inserted;
    private long _alreadyStored;

    /// <inheritdoc/>
    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _store = RequestStore.Open(settings.StorePath);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask WriteAsync(IReadOnlyList<EnrichedRequest> item, CancellationToken cancellationToken)
    {
        var store = _store ?? throw new InvalidOperationException("The store stage was not started.");
        store.Write(item);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        if (_store is { } store)
        {
            _inserted = store.Inserted;
            _alreadyStored = store.AlreadyStored;
            _store = null;
            store.Dispose();
        }

        return default;
    }
}
