using System.Collections.Concurrent;

namespace LogAnalytics;

/// <summary>
/// Tells crawlers and scripts from browsers by the user agent: one naming a crawler (<c>bot</c>,
/// <c>crawl</c>, <c>spider</c>, <c>slurp</c>, ...) or an HTTP library or tool (<c>curl</c>, <c>wget</c>, <c>python-requests</c>,
/// <c>Go-http-client</c>, <c>HeadlessChrome</c>, ...) is a bot. A request without a user agent (Common Log Format, or <c>-</c>) is
/// not counted as a bot: nothing says it is one. Thread-safe. The answers for the first <see cref="CacheCapacity"/> distinct user
/// agents are kept: real logs repeat a few hundred of them, and one hash lookup is cheaper than scanning for every marker.
/// </summary>
public static class BotDetector
{
    private static readonly string[] s_markers =
    [
        "bot", "crawl", "spider", "slurp", "curl/", "wget/", "python-requests", "python-urllib", "go-http-client", "java/",
        "okhttp", "headlesschrome", "facebookexternalhit", "libwww-perl", "httpclient", "scrapy", "preview",
    ];

    /// <summary>How many distinct user agents' answers are kept; later ones are worked out each time.</summary>
    public const int CacheCapacity = 4096;

    private static readonly ConcurrentDictionary<string, bool> s_cache = new(StringComparer.Ordinal);

    /// <summary>Returns whether <paramref name="userAgent"/> belongs to a bot.</summary>
    /// <param name="userAgent">The user agent as logged; <see langword="null"/> or empty when it was <c>-</c> or absent.</param>
    /// <returns><see langword="true"/> for a crawler or a script; <see langword="false"/> for a browser or no user agent.</returns>
    public static bool IsBot(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return false;
        }

        if (s_cache.TryGetValue(userAgent, out var cached))
        {
            return cached;
        }

        var isBot = HasMarker(userAgent);
        if (s_cache.Count < CacheCapacity)
        {
            s_cache.TryAdd(userAgent, isBot);
        }

        return isBot;
    }

    private static bool HasMarker(string userAgent)
    {
        foreach (var marker in s_markers)
        {
            if (userAgent.Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
