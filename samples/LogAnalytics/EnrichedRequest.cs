namespace LogAnalytics;

/// <summary>A parsed request with what the enrich stage derives from it.</summary>
/// <param name="Entry">The parsed request.</param>
/// <param name="Route">The route template of the path: ids and hashes collapsed, query string dropped (<c>/api/orders/{id}</c>).</param>
/// <param name="IsBot">Whether the user agent is a crawler or a script (see <see cref="BotDetector"/>).</param>
public sealed record EnrichedRequest(AccessLogEntry Entry, string Route, bool IsBot)
{
    /// <summary>Gets the status class: 1 to 5 for 1xx to 5xx.</summary>
    public int StatusClass => Entry.Status / 100;
}
