namespace LogAnalytics.Tests;

public sealed class AccessLogParserTests
{
    private static AccessLogEntry Parse(string text) => AccessLogParser.Parse(new LogLine("/logs/access.log", 42, text));

    [Fact]
    public void Parse_CombinedLine_ReadsEveryField()
    {
        var entry = Parse("""203.0.113.7 - alice [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)" """.TrimEnd());

        Assert.Equal("/logs/access.log", entry.Source);
        Assert.Equal(42, entry.Offset);
        Assert.Equal("203.0.113.7", entry.Client);
        Assert.Equal("alice", entry.User);
        Assert.Equal(new DateTimeOffset(2000, 10, 10, 13, 55, 36, TimeSpan.FromHours(-7)), entry.Time);
        Assert.Equal(TimeSpan.FromHours(-7), entry.Time.Offset);
        Assert.Equal("GET", entry.Method);
        Assert.Equal("/apache_pb.gif?x=1", entry.Path);
        Assert.Equal("HTTP/1.0", entry.Protocol);
        Assert.Equal(200, entry.Status);
        Assert.Equal(2326, entry.Bytes);
        Assert.Equal("http://www.example.com/start.html", entry.Referer);
        Assert.Equal("Mozilla/4.08 [en] (Win98; I ;Nav)", entry.UserAgent);
    }

    [Fact]
    public void Parse_RepeatedRefererAndUserAgent_ShareOneStringEach()
    {
        const string Line = """198.51.100.4 - - [10/Oct/2000:13:55:36 +0000] "GET /a HTTP/1.1" 200 10 "https://example.org/from" "TestAgent/1.0 (pooled)" """;

        var first = Parse(Line.TrimEnd());
        var second = Parse(Line.TrimEnd().Replace("/a ", "/b ", StringComparison.Ordinal));

        Assert.Equal("TestAgent/1.0 (pooled)", second.UserAgent);
        Assert.Same(first.UserAgent, second.UserAgent);
        Assert.Same(first.Referer, second.Referer);
        Assert.NotSame(first.Path, second.Path);
    }

    [Fact]
    public void Parse_CommonLine_HasNoRefererOrUserAgent()
    {
        var entry = Parse("""127.0.0.1 - frank [10/Oct/2000:13:55:36 +0000] "POST /api/orders HTTP/1.1" 201 512""");

        Assert.Equal("POST", entry.Method);
        Assert.Equal(201, entry.Status);
        Assert.Equal(512, entry.Bytes);
        Assert.Null(entry.Referer);
        Assert.Null(entry.UserAgent);
    }

    [Fact]
    public void Parse_DashFields_AreZeroBytesAndNulls()
    {
        var entry = Parse("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "HEAD / HTTP/1.1" 304 - "-" "-" """.TrimEnd());

        Assert.Null(entry.User);
        Assert.Equal(0, entry.Bytes);
        Assert.Null(entry.Referer);
        Assert.Null(entry.UserAgent);
    }

    [Fact]
    public void Parse_EscapedQuotesAndBackslashes_AreUnescaped()
    {
        var entry = Parse("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "Agent \"quoted\" path\\dir" """.TrimEnd());

        Assert.Equal("Agent \"quoted\" path\\dir", entry.UserAgent);
    }

    [Theory]
    [InlineData("2001:db8::1")]
    [InlineData("::1")]
    [InlineData("fe80::1ff:fe23:4567:890a")]
    [InlineData("proxy.example.com")]
    public void Parse_Ipv6AndHostClients_AreKeptAsLogged(string client)
    {
        var entry = Parse(client + """ - - [01/Jan/2026:00:00:00 +0100] "GET / HTTP/2.0" 200 10 "-" "curl/8.5.0" """.TrimEnd());

        Assert.Equal(client, entry.Client);
        Assert.Equal(new DateTimeOffset(2025, 12, 31, 23, 0, 0, TimeSpan.Zero), entry.Time.ToUniversalTime());
    }

    [Fact]
    public void Parse_RequestLineWithoutProtocol_HasNullProtocol()
    {
        var entry = Parse("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /old" 200 5""");

        Assert.Equal("/old", entry.Path);
        Assert.Null(entry.Protocol);
    }

    [Fact]
    public void Parse_ExtraFieldsAfterUserAgent_AreIgnored()
    {
        var entry = Parse("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0" "10.9.9.9" rt=0.003""");

        Assert.Equal("curl/8.5.0", entry.UserAgent);
    }

    [Fact]
    public void Parse_NoRequestLine_IsADashRequestWithItsStatus()
    {
        var entry = Parse("""203.0.113.9 - - [07/Dec/2026:01:02:03 +0000] "-" 400 0 "-" "-" """.TrimEnd());

        Assert.Equal("-", entry.Method);
        Assert.Equal("-", entry.Path);
        Assert.Equal(400, entry.Status);
        Assert.Equal(0, entry.Bytes);
    }

    [Theory]
    [InlineData("", "ends before the client address")]
    [InlineData("%%% garbage 17 not a log line %%%", "expected '[' before the timestamp")]
    [InlineData("192.168.0.1 - -", "ends after the user")]
    [InlineData("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /api/orders/12""", "request line has no closing '\"'")]
    [InlineData("""10.0.0.1 - - [32/Foo/2026:25:61:00 +0000] "GET / HTTP/1.1" 200 512""", "unknown month")]
    [InlineData("""10.0.0.1 - - [31/Feb/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 512""", "out of range")]
    [InlineData("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000 "GET / HTTP/1.1" 200 512""", "timestamp")]
    [InlineData("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" OK 512""", "status 'OK' is not a three-digit code")]
    [InlineData("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 12kb""", "response size '12kb' is neither a number nor '-'")]
    [InlineData("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "get / HTTP/1.1" 200 5""", "request method 'get' is not an HTTP method")]
    [InlineData("""10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl""", "user agent has no closing '\"'")]
    [InlineData("10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\"", "expected a space after the referer")]
    public void Parse_MalformedLine_ThrowsWithTheReason(string text, string reason)
    {
        var exception = Assert.Throws<FormatException>(() => Parse(text));

        Assert.Contains(reason, exception.Message, StringComparison.Ordinal);
    }
}
