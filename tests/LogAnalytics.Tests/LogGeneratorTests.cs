using System.Security.Cryptography;

namespace LogAnalytics.Tests;

public sealed class LogGeneratorTests
{
    [Fact]
    public void Write_SameOptionsTwice_WritesTheSameBytes()
    {
        using var folder = new TempDirectory();
        var options = new LogGeneratorOptions { Lines = 20_000, CommonShare = 0.2 };

        var first = LogGenerator.Write(folder.File("a.log"), options);
        var second = LogGenerator.Write(folder.File("b.log"), options);

        Assert.Equal(SHA256.HashData(File.ReadAllBytes(first.Path)), SHA256.HashData(File.ReadAllBytes(second.Path)));
        Assert.Equal(first.MalformedOffsets, second.MalformedOffsets);
        Assert.Equal(new FileInfo(first.Path).Length, first.Bytes);
    }

    [Fact]
    public void Write_OtherSeed_WritesOtherLines()
    {
        using var folder = new TempDirectory();

        var first = LogGenerator.Write(folder.File("a.log"), new LogGeneratorOptions { Lines = 1000 });
        var second = LogGenerator.Write(folder.File("b.log"), new LogGeneratorOptions { Lines = 1000, Seed = 7 });

        Assert.NotEqual(File.ReadAllText(first.Path), File.ReadAllText(second.Path));
    }

    [Fact]
    public async Task Write_DefaultShares_ParseExceptTheMalformedLinesWhichAreAboutOnePerThousand()
    {
        using var folder = new TempDirectory();
        var log = LogGenerator.Write(folder.File("access.log"), new LogGeneratorOptions { Lines = 100_000, CommonShare = 0.1 });

        var failed = new List<long>();
        long lines = 0, common = 0, ipv6 = 0, bots = 0;
        var routes = new Dictionary<string, int>();
        await foreach (var line in AccessLogSource.ReadAllAsync(log.Path))
        {
            lines++;
            try
            {
                var request = Enricher.Enrich(AccessLogParser.Parse(line));
                common += request.Entry.UserAgent is null && !line.Text.EndsWith('"') ? 1 : 0;
                ipv6 += request.Entry.Client.Contains(':', StringComparison.Ordinal) ? 1 : 0;
                bots += request.IsBot ? 1 : 0;
                routes[request.Route] = routes.GetValueOrDefault(request.Route) + 1;
            }
            catch (FormatException)
            {
                failed.Add(line.Offset);
            }
        }

        Assert.Equal(100_000, lines);
        Assert.Equal(log.MalformedOffsets, failed);
        Assert.InRange(failed.Count, 50, 200);
        Assert.Equal(log.CommonLines, common);
        Assert.Equal(log.Ipv6Lines, ipv6);
        Assert.InRange(log.DashBytesLines, 1_000, 20_000);
        Assert.InRange(log.EscapedQuoteLines, 10, 500);
        Assert.InRange(bots, 10_000, 40_000);

        // Zipf: the most popular route alone takes a large share, and ids are collapsed into few routes.
        Assert.Equal("/", routes.MaxBy(p => p.Value).Key);
        Assert.InRange(routes.Count, 15, 60);
        Assert.Contains("/api/orders/{id}", routes.Keys);
        Assert.Contains("/static/js/app.{hash}.js", routes.Keys);
    }

    [Fact]
    public void Write_TimestampsCoverOneDayInOrder()
    {
        using var folder = new TempDirectory();
        var log = LogGenerator.Write(folder.File("access.log"), new LogGeneratorOptions { Lines = 5_000, MalformedShare = 0 });

        var times = File.ReadLines(log.Path).Select(text => AccessLogParser.Parse(new LogLine(log.Path, 0, text)).Time).ToList();

        Assert.Equal(times.Order(), times);
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 0, 0, 0, TimeSpan.Zero), times[0]);
        Assert.InRange(times[^1], new DateTimeOffset(2026, 3, 14, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 14, 23, 59, 59, TimeSpan.Zero));
    }

    [Fact]
    public void Write_ShareOutOfRange_ThrowsNamingTheOption()
    {
        using var folder = new TempDirectory();

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => LogGenerator.Write(folder.File("x.log"), new LogGeneratorOptions { MalformedShare = 1.5 }));

        Assert.Equal("MalformedShare", exception.ParamName);
    }
}
