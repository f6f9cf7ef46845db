namespace LogAnalytics;

/// <summary>The enrich stage: route template and bot detection. Thread-safe.</summary>
public static class Enricher
{
    /// <summary>Enriches <paramref name="entry"/>.</summary>
    /// <param name="entry">A parsed request.</param>
    /// <returns>The request with its route and bot flag.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="entry"/> is <see langword="null"/>.</exception>
    public static EnrichedRequest Enrich(AccessLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new EnrichedRequest(entry, RouteTemplate.Of(entry.Path), BotDetector.IsBot(entry.UserAgent));
    }
}
