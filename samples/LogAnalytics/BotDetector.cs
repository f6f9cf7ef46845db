namespace LogAnalytics;

/// <summary>
/// Tells crawlers and scripts from browsers by the user agent: one naming a crawler (<c>bot</c>,
/// <c>crawl</c>, <c>spider</c>, <c>slurp</c>, ...) or an HTTP library or tool (<c>curl</c>, <c>wget</c>, <c>python-requests</c>,
/// <c>Go-http-client</c>, <c>HeadlessChrome</c>, ...) is a bot. A request without a user agent (Common Log Format, or <c>-</c>) is
/// not counted as a bot: nothing says it is one. Thread-safe.
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
    /// <returns><see langword="true"/> for a crawler or a script; <see langword="false"/> for a browser or no user agent.</returns>
    public static bool IsBot(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return false;
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
