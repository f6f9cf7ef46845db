using System.Text.Json;

namespace LogAnalytics.Tests;

public sealed class AccessLogJsonContextTests
{
    [Fact]
    public void AccessLogEntry_RoundTrip_KeepsSourceOffsetAndEveryFieldAndLeavesOutNulls()
    {
        var entry = AccessLogParser.Parse(new LogLine("/logs/access.log#5d41402abc4b2a76", 123_456_789_012,
            """::1 - - [15/Mar/2026:08:00:05 +0130] "GET /api/orders/5?x=1 HTTP/1.1" 200 - "-" "Mozilla/5.0 \"x\"" """.TrimEnd()));

        var json = JsonSerializer.Serialize(entry, AccessLogJsonContext.Default.AccessLogEntry);
        var back = JsonSerializer.Deserialize(json, AccessLogJsonContext.Default.AccessLogEntry);

        Assert.Equal(entry, back);
        Assert.Equal(TimeSpan.FromMinutes(90), back!.Time.Offset);
        Assert.DoesNotContain("Referer", json, StringComparison.Ordinal);
        Assert.Contains("\"Offset\":123456789012", json, StringComparison.Ordinal);
    }
}
