using System.Text;
using System.Text.Json.Nodes;

namespace LogAnalytics.Tests;

/// <summary>The real host in follow mode (appends and a rotation while it runs) and replaying its dead-letter file.</summary>
public sealed class FollowAndReplayTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    private const string GoodLine = """10.1.2.3 - - [15/Mar/2026:08:01:00 +0000] "GET /api/users/17 HTTP/1.1" 200 321 "-" "curl/8.5.0" """;

    [Fact]
    public async Task RunAsync_FollowWhileAppendedAndRotated_StoresEveryLineOfBothFiles()
    {
        using var folder = new TempDirectory();
        var input = folder.File("live.log");
        var rotated = folder.File("live.log.1");
        var db = folder.File("db.sqlite");
        var first = Generate(folder, "first.log", 2_000, seed: 1);
        var appended = Generate(folder, "appended.log", 500, seed: 2);
        var afterRotation = Generate(folder, "after-rotation.log", 700, seed: 3);
        await File.WriteAllTextAsync(input, first);
        using var stop = new CancellationTokenSource();
        var output = new StringWriter();

        var run = LogAnalyticsApp.RunAsync(
            LogAnalyticsAppTests.Args(folder, input, "--Input:Follow=true", "--Input:PollInterval=00:00:00.05"), TextWriter.Synchronized(output), stop.Token);
        await LogAnalyticsAppTests.WaitForRowsAsync(db, 2_000, run);
        await File.AppendAllTextAsync(input, appended);
        await LogAnalyticsAppTests.WaitForRowsAsync(db, 2_500, run);

        // Rotate as logrotate does: rename the file, start a new one at the same path.
        File.Move(input, rotated);
        await File.WriteAllTextAsync(input, afterRotation);
        await LogAnalyticsAppTests.WaitForRowsAsync(db, 3_200, run);
        await stop.CancelAsync();
        var (exitCode, report) = await run.WaitAsync(s_timeout);

        Assert.True(exitCode == 0, output.ToString());
        Assert.Equal((3_200L, 3_200L, 0L), (report!.Read, report.Stored, report.DeadLettered));

        // Stopping is how a followed input ends: not reported as a partial run.
        Assert.Contains("Access log report (stopped early while following the input; the next run resumes after its checkpoint)", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("PARTIAL", output.ToString(), StringComparison.Ordinal);

        // Each file is its own source, and every line of each is stored at its own offset.
        var stored = LogAnalyticsAppTests.Rows(db, "SELECT source, offset FROM requests ORDER BY source, offset")
            .Select(row => row.Split('|')).GroupBy(row => row[0], row => long.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, stored.Count);
        Assert.All(stored, group => Assert.StartsWith(input + "#", group.Key, StringComparison.Ordinal));
        var expected = new[] { LineOffsets(first + appended), LineOffsets(afterRotation) }.OrderBy(offsets => offsets.Count).ToList();
        Assert.Equal(expected, stored.Select(group => group.ToList()).OrderBy(offsets => offsets.Count).ToList());
        LogAnalyticsAppTests.AssertAggregatesMatchRequests(db);
    }

    [Fact]
    public async Task RunAsync_ReplayDeadLetters_StoresFixedLinesAndSendsWhatFailsAgainBack()
    {
        using var folder = new TempDirectory();
        var input = LogAnalyticsAppTests.WriteInput(folder, out var offsets, out var malformedOffsets);
        var db = folder.File("db.sqlite");
        var deadLetters = folder.File("dead.jsonl");
        var (_, firstRun) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, input), TextWriter.Null).WaitAsync(s_timeout);
        Assert.Equal(malformedOffsets.Count, firstRun!.DeadLettered);

        // Fix every dead-lettered line but the last two, as someone repairing the records would; each keeps its source and offset.
        var entries = File.ReadAllLines(deadLetters).Select(line => JsonNode.Parse(line)!).ToList();
        foreach (var entry in entries.SkipLast(2))
        {
            entry["item"]!["Text"] = GoodLine;
        }

        var unfixed = entries.TakeLast(2).Select(entry => entry["item"]!["Offset"]!.GetValue<long>()).ToList();
        await File.WriteAllLinesAsync(deadLetters, entries.Select(entry => entry.ToJsonString()));
        var output = new StringWriter();

        var (exitCode, replay) = await LogAnalyticsApp.RunAsync(
            LogAnalyticsAppTests.Args(folder, input, LogAnalyticsApp.ReplayDeadLettersSwitch), output).WaitAsync(s_timeout);

        Assert.True(exitCode == 0, output.ToString());
        Assert.True(replay!.Replay);
        Assert.Contains("Access log report (replay of the dead letters, completed)", output.ToString(), StringComparison.Ordinal);
        Assert.Equal((entries.Count, entries.Count - 2L, 2L), (replay.Read, replay.Stored, replay.DeadLettered));
        Assert.Equal(offsets.Except(unfixed), LogAnalyticsAppTests.Rows(db, "SELECT offset FROM requests").Select(long.Parse).Order().ToList());
        Assert.Equal(entries.Count + 2, File.ReadAllLines(deadLetters).Length);
        LogAnalyticsAppTests.AssertAggregatesMatchRequests(db);
    }

    [Fact]
    public async Task RunAsync_ReplayAfterSomeFailedAgain_ReplaysOnlyWhatFailedAgain()
    {
        using var folder = new TempDirectory();
        var input = LogAnalyticsAppTests.WriteInput(folder, out var offsets, out _);
        var db = folder.File("db.sqlite");
        var deadLetters = folder.File("dead.jsonl");
        await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, input), TextWriter.Null).WaitAsync(s_timeout);
        var entries = File.ReadAllLines(deadLetters).Select(line => JsonNode.Parse(line)!).ToList();
        foreach (var entry in entries.SkipLast(2))
        {
            entry["item"]!["Text"] = GoodLine;
        }

        await File.WriteAllLinesAsync(deadLetters, entries.Select(entry => entry.ToJsonString()));
        await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, input, LogAnalyticsApp.ReplayDeadLettersSwitch), TextWriter.Null).WaitAsync(s_timeout);

        // The next replay takes only the two lines that failed again, not the ones replayed before.
        var (_, second) = await LogAnalyticsApp.RunAsync(
            LogAnalyticsAppTests.Args(folder, input, LogAnalyticsApp.ReplayDeadLettersSwitch), TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal((2L, 0L, 2L), (second!.Read, second.Stored, second.DeadLettered));
        Assert.Equal(offsets.Count - 2, LogAnalyticsAppTests.CountRows(db));
    }

    [Fact]
    public async Task RunAsync_ReplayEverythingFixed_SecondReplayReplaysNothing()
    {
        using var folder = new TempDirectory();
        var input = LogAnalyticsAppTests.WriteInput(folder, out var offsets, out _);
        var deadLetters = folder.File("dead.jsonl");
        await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, input), TextWriter.Null).WaitAsync(s_timeout);
        var entries = File.ReadAllLines(deadLetters).Select(line => JsonNode.Parse(line)!).ToList();
        entries.ForEach(entry => entry["item"]!["Text"] = GoodLine);
        await File.WriteAllLinesAsync(deadLetters, entries.Select(entry => entry.ToJsonString()));
        string[] replayArgs = LogAnalyticsAppTests.Args(folder, input, LogAnalyticsApp.ReplayDeadLettersSwitch);
        var (_, first) = await LogAnalyticsApp.RunAsync(replayArgs, TextWriter.Null).WaitAsync(s_timeout);

        var (exitCode, second) = await LogAnalyticsApp.RunAsync(replayArgs, TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal((entries.Count, entries.Count + 0L), (first!.Read, first.Stored));
        Assert.Equal(0, exitCode);
        Assert.Equal((0L, 0L, 0L, 0L), (second!.Read, second.Stored, second.AlreadyStored, second.DeadLettered));
        Assert.Equal(offsets.Count, LogAnalyticsAppTests.CountRows(folder.File("db.sqlite")));
    }

    [Fact]
    public async Task RunAsync_ReplayWithoutADeadLetterFile_ExitsWithStartFailedAndNamesTheKey()
    {
        using var folder = new TempDirectory();
        var (exitCode, report) = await LogAnalyticsApp.RunAsync(
            LogAnalyticsAppTests.Args(folder, folder.File("none.log"), LogAnalyticsApp.ReplayDeadLettersSwitch), TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        Assert.False(File.Exists(folder.File("db.sqlite")));
    }

    /// <summary>Generates <paramref name="lines"/> well-formed lines and returns the text (the file is a scratch copy).</summary>
    private static string Generate(TempDirectory folder, string name, int lines, ulong seed)
    {
        var path = folder.File(name);
        LogGenerator.Write(path, new LogGeneratorOptions { Lines = lines, MalformedShare = 0, Seed = seed });
        return File.ReadAllText(path);
    }

    /// <summary>The byte offset of every line of <paramref name="text"/>.</summary>
    private static List<long> LineOffsets(string text)
    {
        var offsets = new List<long>();
        long offset = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            offsets.Add(offset);
            offset += Encoding.UTF8.GetByteCount(line) + 1;
        }

        return offsets;
    }
}
