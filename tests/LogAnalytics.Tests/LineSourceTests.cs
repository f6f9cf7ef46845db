using System.Text;

namespace LogAnalytics.Tests;

public sealed class LineSourceTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ReadAsync_Lines_YieldsEachWithItsByteOffset()
    {
        using var folder = new TempDirectory();
        var path = folder.File("a.log");
        await File.WriteAllBytesAsync(path, Encoding.UTF8.GetBytes("first\r\nsecond é\n\nthird"));

        var lines = await ReadAllAsync(new LineSource(path, false, TimeSpan.Zero));

        Assert.Equal([("first", 0L), ("second é", 7L), ("third", 18L)], lines.Select(l => (l.Text, l.Offset)));
        Assert.All(lines, line => Assert.Equal(Path.GetFullPath(path), line.Source));
    }

    [Fact]
    public async Task ReadAsync_LineLongerThanTheBuffer_IsWhole()
    {
        using var folder = new TempDirectory();
        var path = folder.File("a.log");
        var longLine = new string('x', 200_000);
        await File.WriteAllTextAsync(path, "a\n" + longLine + "\nb\n");

        var lines = await ReadAllAsync(new LineSource(path, false, TimeSpan.Zero));

        Assert.Equal(["a", longLine, "b"], lines.Select(l => l.Text));
        Assert.Equal(2 + 200_000 + 1, lines[2].Offset);
    }

    [Fact]
    public async Task ReadAsync_Follow_YieldsAppendedLinesOnceCompleteAndEndsWhenStopped()
    {
        using var folder = new TempDirectory();
        var path = folder.File("a.log");
        await File.WriteAllTextAsync(path, "one\n");
        using var stop = new CancellationTokenSource();
        await using var lines = new LineSource(path, true, TimeSpan.FromMilliseconds(10)).ReadAsync(stop.Token).GetAsyncEnumerator();

        Assert.True(await lines.MoveNextAsync().AsTask().WaitAsync(s_timeout));
        Assert.Equal(("one", 0L), (lines.Current.Text, lines.Current.Offset));

        var next = lines.MoveNextAsync().AsTask();
        await File.AppendAllTextAsync(path, "tw");
        await File.AppendAllTextAsync(path, "o\n");
        Assert.True(await next.WaitAsync(s_timeout));
        Assert.Equal(("two", 4L), (lines.Current.Text, lines.Current.Offset));

        var end = lines.MoveNextAsync().AsTask();
        await stop.CancelAsync();
        Assert.False(await end.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task ReadAsync_StopRequested_EndsEarly()
    {
        using var folder = new TempDirectory();
        var path = folder.File("a.log");
        await File.WriteAllLinesAsync(path, Enumerable.Range(0, 1000).Select(i => $"line {i}"));
        using var stop = new CancellationTokenSource();

        var read = 0;
        await foreach (var line in new LineSource(path, false, TimeSpan.Zero).ReadAsync(stop.Token))
        {
            if (++read == 10)
            {
                await stop.CancelAsync();
            }
        }

        Assert.InRange(read, 10, 999);
    }

    private static async Task<List<LogLine>> ReadAllAsync(LineSource source)
    {
        var lines = new List<LogLine>();
        await foreach (var line in source.ReadAsync(CancellationToken.None).WithCancellation(CancellationToken.None))
        {
            lines.Add(line);
        }

        return lines;
    }
}
