using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Sources;

public sealed partial class FileSourceTests
{
    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_FollowTruncation_ReadsFromTheStart()
    {
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "first line\nsecond line\n");
        using var stop = new CancellationTokenSource();
        var source = NewSource(path, follow: true);
        await using var lines = source.ReadAsync(stop.Token).GetAsyncEnumerator();
        await NextAsync(lines);
        var second = await NextAsync(lines);

        var next = NextAsync(lines);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(0);
        }

        await File.AppendAllTextAsync(path, "x\n");

        var after = await next;
        Assert.Equal("x", after.Item.Text);
        Assert.Equal(0, after.Item.StartOffset);
        Assert.True(after.Position > second.Position);
        await stop.CancelAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_FollowTruncatedAndRewrittenPastTheLengthRead_ReadsTheNewLineWhole()
    {
        // logrotate's copytruncate with a busy writer: by the time the file is looked at again it is longer than before.
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "aaaa\n");
        using var stop = new CancellationTokenSource();
        var source = NewSource(path, follow: true);
        await using var lines = source.ReadAsync(stop.Token).GetAsyncEnumerator();
        var first = await NextAsync(lines);

        var next = NextAsync(lines);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(0);
            await file.WriteAsync("bbbbbbbbbbbbbbbbbbbb\n"u8.ToArray());
        }

        var after = await next;
        Assert.Equal("bbbbbbbbbbbbbbbbbbbb", after.Item.Text);
        Assert.Equal(0, after.Item.StartOffset);
        Assert.True(after.Position > first.Position);
        await stop.CancelAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_FollowFileMissing_WaitsForIt()
    {
        var path = _directory.File("later.log");
        using var stop = new CancellationTokenSource();
        await using var lines = NewSource(path, follow: true).ReadAsync(stop.Token).GetAsyncEnumerator();

        var next = NextAsync(lines);
        await File.WriteAllTextAsync(path, "here\n");

        Assert.Equal("here", (await next).Item.Text);
        await stop.CancelAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_FileMissingNotFollowing_Throws()
    {
        var path = _directory.File("missing.log");

        var exception = await Assert.ThrowsAsync<FileNotFoundException>(() => ReadAllAsync(NewSource(path)));

        Assert.Contains(path, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_BadOptions_ThrowsNamingEachKey()
    {
        var exception = Assert.Throws<OptionsValidationException>(
            () => new FileSource(new FileSourceOptions { Path = " ", PollInterval = TimeSpan.Zero }));

        Assert.Contains("FileSource:Path must be the path of a file, was ' '", exception.Failures);
        Assert.Contains("FileSource:PollInterval must be between 00:00:00.0100000 and 1.00:00:00, was 00:00:00", exception.Failures);
        var validator = new FileSourceOptionsValidator("Input");
        var sameFile = validator.Validate(null, new FileSourceOptions { Path = "a.log", CheckpointPath = "a.log" });
        Assert.Equal(["Input:CheckpointPath must be a file path other than Input:Path, was 'a.log'"], sameFile.Failures);
    }

    [Fact]
    public void Options_BoundFromConfiguration_ValidatedNamingTheKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Input:Path"] = "access.log",
            ["Input:Follow"] = "true",
            ["Input:CheckpointPath"] = "state/access.checkpoint",
            ["Input:PollInterval"] = "00:00:00.005",
        }).Build();
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton<IValidateOptions<FileSourceOptions>>(new FileSourceOptionsValidator("Input"))
            .AddOptions<FileSourceOptions>().BindConfiguration("Input").Services
            .BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<FileSourceOptions>>().Value);

        Assert.Equal(["Input:PollInterval must be between 00:00:00.0100000 and 1.00:00:00, was 00:00:00.0050000"], exception.Failures);
        configuration["Input:PollInterval"] = "00:00:02";
        var options = new FileSourceOptions();
        configuration.GetSection("Input").Bind(options);
        Assert.Equal(("access.log", true, "state/access.checkpoint", TimeSpan.FromSeconds(2)), (options.Path, options.Follow, options.CheckpointPath, options.PollInterval));
    }

    [Fact(Timeout = 120_000)]
    public async Task ReadAsync_MillionLines_FasterThanAHundredThousandPerSecond()
    {
        var path = _directory.File("big.log");
        const int Lines = 1_000_000;
        await using (var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16))
        {
            for (var i = 0; i < Lines; i++)
            {
                await writer.WriteAsync($"203.0.113.{i % 256} - - [01/Dec/2026:00:00:00 +0000] \"GET /item/{i} HTTP/1.1\" 200 512\n");
            }
        }

        var count = 0;
        long lastPosition = 0;
        var stopwatch = Stopwatch.StartNew();
        await foreach (var line in NewSource(path).ReadAsync(CancellationToken.None))
        {
            count++;
            lastPosition = line.Position;
        }

        stopwatch.Stop();
        Assert.Equal(Lines, count);
        Assert.Equal(new FileInfo(path).Length, lastPosition);
        var perSecond = Lines / stopwatch.Elapsed.TotalSeconds;
        output.WriteLine($"{Lines:N0} lines in {stopwatch.Elapsed.TotalMilliseconds:N0} ms: {perSecond:N0} lines/s");
        // A floor for a Debug build on a loaded machine; FileSourceBenchmark measures the Release speed (millions per second).
        Assert.True(perSecond > 100_000, $"{perSecond:N0} lines/s");
    }
}
