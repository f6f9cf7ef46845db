namespace LogAnalytics;

/// <summary>
/// Tells crawlers and scripts from browsers by the user agent: a missing user agent, or one naming a crawler (<c>bot</c>,
/// <c>crawl</c>, <c>spider</c>, <c>slurp</c>, ...) or an HTTP library or tool (<c>curl</c>, <c>wget</c>, <c>python-requests</c>,
/// <c>Go-http-client</c>, <c>HeadlessChrome</c>, ...) is a bot. Thread-safe.
/// </summary>
public static class BotDetector
{
    private static readonly string[] s_markers =
    [
        "bot", "crawl", "spider", "slurp", "curl/", "wget/", "python-requests", "python-urllib", "go-http-client", "java/",
        "okhttp", "headlesschrome", "facebookexternalhit", "libwww-perl", "httpclient", "scrapy", "preview",
    ];

    /// <summary>Returns whether <paramref name="userAgent"/> belongs to a bot.</summary>
    /// <param name="userAgent">The user agent as logged; <see langword="null"/> or empty when it was <c>-</c> or absent.</param>
    /// <returns><see langword="true"/> for a crawler, a script or a missing user agent.</returns>
    public static bool IsBot(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return true;
        }

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
