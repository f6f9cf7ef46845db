using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Pipeline.Handoffs;

namespace LogAnalytics.Tests;

/// <summary>The real host, end to end, on generated inputs: what lands in SQLite and in the dead-letter file against the input.</summary>
public sealed class LogAnalyticsAppTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    /// <summary>Lines whose figures are worked out by hand: minute 2026-03-15 08:00 UTC holds /api/orders/{id} 200 ×2 (100 bytes,
    /// no bot) and 500 ×1 (50 bytes, a bot); two more lines are malformed.</summary>
    private static readonly string[] s_handLines =
    [
        """2001:db8::42 - - [15/Mar/2026:08:00:05 +0000] "GET /api/orders/5?x=1 HTTP/1.1" 200 - "-" "Mozilla/5.0 (X11; Linux x86_64) \"Quoted\" Firefox/133.0" """.TrimEnd(),
        """2001:db8::42 - - [15/Mar/2026:09:00:10 +0100] "GET /api/orders/6 HTTP/1.1" 200 100""",
        """10.9.9.9 - bob [15/Mar/2026:08:00:59 +0000] "POST /api/orders/7 HTTP/1.1" 500 50 "https://shop.example.com/" "curl/8.5.0" """.TrimEnd(),
        "garbage that is no log line",
        """10.9.9.9 - - [15/Mar/2026:08:00:59 +0000] "GET /x HTTP/1.1" 2OO 1""",
    ];

    [Theory]
    [InlineData(HandoffKind.Condition)]
    [InlineData(HandoffKind.Semaphore)]
    [InlineData(HandoffKind.Channel)]
    public async Task RunAsync_MixedInput_StoresOrDeadLettersEveryLineAndReportsTheDatabase(HandoffKind kind)
    {
        using var folder = new TempDirectory();
        var input = WriteInput(folder, out var offsets, out var malformedOffsets);
        var output = new StringWriter();

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(Args(folder, input, $"--Pipelines:access-logs:Handoff:Kind={kind}"), output).WaitAsync(s_timeout);

        Assert.Equal(0, exitCode);
        Assert.NotNull(report);
        Assert.True(report.Complete, output.ToString());
        Assert.Equal(offsets.Count, report.Read);
        Assert.Equal(malformedOffsets.Count, report.DeadLettered);
        Assert.Equal(offsets.Count - malformedOffsets.Count, report.Stored);

        var db = folder.File("db.sqlite");
        var storedOffsets = Column<long>(db, "SELECT offset FROM requests ORDER BY offset");
        var deadLetters = File.ReadAllLines(folder.File("dead.jsonl")).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var deadOffsets = deadLetters.Select(d => d.GetProperty("item").GetProperty("Offset").GetInt64()).Order().ToList();
        Assert.Equal(malformedOffsets, deadOffsets);
        Assert.Equal(offsets, storedOffsets.Concat(deadOffsets).Order().ToList());
        Assert.All(deadLetters, d => Assert.StartsWith("Not a Combined or Common Log Format line", d.GetProperty("message").GetString(), StringComparison.Ordinal));

        AssertAggregatesMatchRequests(db);
        AssertHandLines(db);
        AssertReportMatchesRequests(db, report);
        Assert.Contains("Access log report (completed)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"dead-lettered {malformedOffsets.Count:N0}", output.ToString(), StringComparison.Ordinal);

        // The store takes only one worker (one SQLite writer): the report never advises more.
        Assert.DoesNotContain("Stages:store:Parallelism", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SameInputWithoutCheckpoint_StoresEachLineOnceAndKeepsTheAggregates()
    {
        using var folder = new TempDirectory();
        var input = WriteInput(folder, out var offsets, out var malformedOffsets);
        await LogAnalyticsApp.RunAsync(Args(folder, input), TextWriter.Null).WaitAsync(s_timeout);
        var before = RequestStoreTests.MinuteStats(folder.File("db.sqlite"));
        File.Delete(folder.File($"db.sqlite.access.log.{LogAnalyticsSettings.InputKey(input)}.checkpoint"));

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(Args(folder, input), TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal(0, exitCode);
        Assert.Equal(offsets.Count, report!.Read);
        Assert.Equal(0, report.Stored);
        Assert.Equal(offsets.Count - malformedOffsets.Count, report.AlreadyStored);
        Assert.Equal(offsets.Count - malformedOffsets.Count, report.TotalRequests);
        Assert.Equal(before, RequestStoreTests.MinuteStats(folder.File("db.sqlite")));
    }

    [Fact]
    public async Task RunAsync_SameInputAgain_ResumesAtTheCheckpointAndWithoutItStoresEachLineOnce()
    {
        using var folder = new TempDirectory();
        var input = WriteInput(folder, out var offsets, out var malformedOffsets);
        await LogAnalyticsApp.RunAsync(Args(folder, input), TextWriter.Null).WaitAsync(s_timeout);
        var before = RequestStoreTests.MinuteStats(folder.File("db.sqlite"));
        var checkpoint = folder.File($"db.sqlite.access.log.{LogAnalyticsSettings.InputKey(input)}.checkpoint");
        Assert.True(File.Exists(checkpoint), "The checkpoint is beside the database.");

        var (resumedExitCode, resumed) = await LogAnalyticsApp.RunAsync(Args(folder, input), TextWriter.Null).WaitAsync(s_timeout);
        File.Delete(checkpoint);
        var (exitCode, report) = await LogAnalyticsApp.RunAsync(Args(folder, input), TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal((0, 0L, 0L), (resumedExitCode, resumed!.Read, resumed.Stored));
        Assert.Equal(0, exitCode);
        Assert.Equal(offsets.Count, report!.Read);
        Assert.Equal(0, report.Stored);
        Assert.Equal(offsets.Count - malformedOffsets.Count, report.AlreadyStored);
        Assert.Equal(offsets.Count - malformedOffsets.Count, report.TotalRequests);
        Assert.Equal(before, RequestStoreTests.MinuteStats(folder.File("db.sqlite")));
    }

    [Fact]
    public async Task RunAsync_MalformedLineWithOnErrorStop_FaultsWithNonZeroExitCodeAndAPartialReport()
    {
        using var folder = new TempDirectory();
        var input = WriteInput(folder, out _, out _);
        var output = new StringWriter();

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(Args(folder, input, "--Pipelines:access-logs:Stages:parse:OnError=Stop"), output).WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.FaultedExitCode, exitCode);
        Assert.False(report!.Complete);
        Assert.Contains("faulted in stage 'parse'", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("PARTIAL", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FollowUntilStopped_StoresAppendedLinesAndSaysItStoppedWhileFollowing()
    {
        using var folder = new TempDirectory();
        var input = folder.File("live.log");
        await File.WriteAllLinesAsync(input, s_handLines[..3]);
        using var stop = new CancellationTokenSource();
        var output = new StringWriter();

        var run = LogAnalyticsApp.RunAsync(Args(folder, input, "--Input:Follow=true", "--Store:BatchSize=1"), TextWriter.Synchronized(output), stop.Token);
        await WaitForRowsAsync(folder.File("db.sqlite"), 3, run);
        await File.AppendAllLinesAsync(input, [s_handLines[1].Replace("/6 ", "/8 ", StringComparison.Ordinal), s_handLines[3]]);
        await WaitForRowsAsync(folder.File("db.sqlite"), 4, run);
        await stop.CancelAsync();
        var (exitCode, report) = await run.WaitAsync(s_timeout);

        Assert.Equal(0, exitCode);
        Assert.False(report!.Complete);
        Assert.Equal((5L, 4L, 1L), (report.Read, report.Stored, report.DeadLettered));
        Assert.Contains("stopped early while following the input; the next run resumes after its checkpoint", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("stopping: finishing the lines in flight", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("PARTIAL", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Role", "bogus", "Role must be one of all, producer, consumer, was 'bogus'")]
    [InlineData("Role", "consumer", "Role=consumer needs Pipelines:access-logs:Redis:ConnectionString")]
    [InlineData("Role", "Producer", "Role=producer needs Pipelines:access-logs:Redis:ConnectionString")]
    [InlineData("ExitWhenDone", "yes", "ExitWhenDone must be true or false, was 'yes'")]
    [InlineData("Input:Follow", "maybe", "Input:Follow must be true or false, was 'maybe'")]
    [InlineData("Store:BatchSize", "0", "Store:BatchSize must be between 1 and 100000, was '0'")]
    [InlineData("Pipelines:access-logs:Stages:store:Parallelism", "2", "Pipelines:access-logs:Stages:store:Parallelism must be 1, was '2': the store writes through one SQLite connection")]
    [InlineData("Input:Folow", "true", "Input:Folow is not a known setting; Input allows Path, Follow, CheckpointPath, PollInterval")]
    [InlineData("Input", "x.log", "Input is a section, not a value: give its keys (Input:Path, Input:Follow, Input:CheckpointPath, Input:PollInterval)")]
    [InlineData("Role:x", "1", "Role must be a value, not a section or a list")]
    [InlineData("ExitWhenDone:x", "1", "ExitWhenDone must be a value, not a section or a list")]
    [InlineData("shutdownTimeoutSeconds", "2.5", "shutdownTimeoutSeconds must be a whole number of seconds, 0 or more, was '2.5'")]
    [InlineData("startupTimeoutSeconds", "abc", "startupTimeoutSeconds must be a whole number of seconds, 0 or more, was 'abc'")]
    [InlineData("servicesStopConcurrently", "maybe", "servicesStopConcurrently must be true or false, was 'maybe'")]
    [InlineData("Logging:LogLevel:Default", "Verbose", "Logging:LogLevel:Default must be one of Trace, Debug, Information, Warning, Error, Critical, None, was 'Verbose'")]
    [InlineData("Logging:Console:LogLevel:Pipeline", "Loud", "Logging:Console:LogLevel:Pipeline must be one of Trace")]
    [InlineData("Store:Batch", "10", "Store:Batch is not a known setting; Store allows Path, BatchSize")]
    [InlineData("Store:Path:0", "x.db", "Store:Path must be a value, not a section or a list")]
    [InlineData("Pipelines:access-logs:Handoff:FullMode", "DropOldest", "Pipelines:access-logs:Handoff:FullMode must be Wait, was 'DropOldest'")]
    [InlineData("Pipelines:access-logs:Stages:parse:Handoff:FullMode", "DropWrite", "Pipelines:access-logs:Stages:parse:Handoff:FullMode must be Wait, was 'DropWrite'")]
    public async Task RunAsync_BadSetting_ExitsWithStartFailedAndNamesTheKey(string key, string value, string message)
    {
        using var folder = new TempDirectory();

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(Args(folder, folder.File("none.log"), $"--{key}={value}"), TextWriter.Null).WaitAsync(s_timeout);
        var exception = Assert.Throws<InvalidOperationException>(() => LogAnalyticsSettings.Read(
            new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build(), folder.Path));

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
    }

    internal static string[] Args(TempDirectory folder, string input, params string[] extra) =>
    [
        $"--Input:Path={input}", $"--Store:Path={folder.File("db.sqlite")}", $"--Pipelines:access-logs:DeadLetter:Path={folder.File("dead.jsonl")}",
        "--Logging:LogLevel:Default=Warning", "--Store:BatchSize=100", .. extra,
    ];

    /// <summary>A generated mix (Combined and Common, IPv6, '-' sizes, 1% malformed) followed by <see cref="s_handLines"/>.</summary>
    internal static string WriteInput(TempDirectory folder, out List<long> offsets, out List<long> malformedOffsets)
    {
        var path = folder.File("access.log");
        var generated = LogGenerator.Write(path, new LogGeneratorOptions { Lines = 3_000, CommonShare = 0.3, MalformedShare = 0.01, Ipv6Share = 0.2, Seed = 99 });
        Assert.True(generated.CommonLines > 500 && generated.Ipv6Lines > 300 && generated.DashBytesLines > 50 && generated.MalformedOffsets.Count > 10);
        File.AppendAllLines(path, s_handLines);
        offsets = [];
        long offset = 0;
        foreach (var line in File.ReadAllLines(path))
        {
            offsets.Add(offset);
            offset += line.Length + 1;
        }

        malformedOffsets = [.. generated.MalformedOffsets, offsets[^2], offsets[^1]];
        return path;
    }

    internal static void AssertAggregatesMatchRequests(string db)
    {
        var fromRequests = Rows(db, """
            SELECT time - time % 60, route, status, COUNT(*), SUM(bytes), SUM(is_bot) FROM requests
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            """);
        var aggregates = Rows(db, "SELECT minute, route, status, requests, bytes, bots FROM minute_stats ORDER BY 1, 2, 3");
        Assert.Equal(fromRequests, aggregates);
    }

    private static void AssertHandLines(string db)
    {
        var minute = new DateTimeOffset(2026, 3, 15, 8, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        Assert.Equal(
            ["/api/orders/{id}|200|2|100|0", "/api/orders/{id}|500|1|50|1"],
            Rows(db, $"SELECT route, status, requests, bytes, bots FROM minute_stats WHERE minute = {minute} ORDER BY status"));
        Assert.Equal(
            ["2001:db8::42|GET|/api/orders/5?x=1|0|Mozilla/5.0 (X11; Linux x86_64) \"Quoted\" Firefox/133.0|0"],
            Rows(db, "SELECT client, method, path, bytes, user_agent, is_bot FROM requests WHERE path LIKE '/api/orders/5?%'"));
        Assert.Equal(
            [$"{minute + 10}||"],
            Rows(db, "SELECT time, referer, user_agent FROM requests WHERE path = '/api/orders/6'"));
    }

    private static void AssertReportMatchesRequests(string db, TrafficReport report)
    {
        var rows = Rows(db, "SELECT route, status, bytes, is_bot, time FROM requests").Select(r => r.Split('|')).ToList();
        Assert.Equal(rows.Count, report.TotalRequests);
        var expectedTop = rows.GroupBy(r => r[0]).Select(g => (g.Key, (long)g.Count())).OrderByDescending(p => p.Item2).ThenBy(p => p.Key, StringComparer.Ordinal).Take(5);
        Assert.Equal(expectedTop, report.TopRoutes);
        Assert.Equal(rows.GroupBy(r => int.Parse(r[1]) / 100).ToDictionary(g => g.Key, g => (long)g.Count()), report.StatusClasses);
        var sizes = rows.Select(r => long.Parse(r[2])).Order().ToList();
        Assert.Equal(sizes[(int)Math.Ceiling(sizes.Count * 0.95) - 1], report.P95Bytes);
        Assert.Equal(rows.Count(r => r[3] == "1"), report.BotRequests);
        var busiest = rows.GroupBy(r => long.Parse(r[4]) / 60 * 60).Select(g => (Minute: g.Key, Count: (long)g.Count())).OrderByDescending(p => p.Count).ThenBy(p => p.Minute).First();
        Assert.Equal((DateTimeOffset.FromUnixTimeSeconds(busiest.Minute), busiest.Count), report.BusiestMinute);
    }

    internal static Task WaitForRowsAsync(string db, long rows, Task running) =>
        WaitForDatabaseAsync(db, () => CountRows(db) >= rows, running, $"{rows} rows");

    /// <summary>
    /// Waits until <paramref name="done"/> holds, checking it again on each write to the database's files (the database, its
    /// journal or WAL, and anything else named after it, such as a checkpoint), and fails if <paramref name="running"/> ends first.
    /// </summary>
    internal static async Task WaitForDatabaseAsync(string db, Func<bool> done, Task running, string what)
    {
        // The watcher starts before the first check, so a write between a check and the wait is not missed.
        using var written = new SemaphoreSlim(0);
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(db)!, Path.GetFileName(db) + "*")
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        watcher.Changed += (_, _) => written.Release();
        watcher.Created += (_, _) => written.Release();
        watcher.Renamed += (_, _) => written.Release();
        watcher.EnableRaisingEvents = true;
        using var deadline = new CancellationTokenSource(s_timeout);
        while (!done())
        {
            Assert.False(running.IsCompleted, $"The run ended before {what}.");
            var wake = await Task.WhenAny(written.WaitAsync(deadline.Token), running);
            Assert.False(deadline.IsCancellationRequested, $"No {what} after {s_timeout}.");
            if (wake != running)
            {
                await wake; // surfaces a cancelled wait as the deadline above

                // Writes come in bursts: one check for all the signals already in.
                while (written.Wait(0))
                {
                }
            }
        }
    }

    internal static long CountRows(string db)
    {
        if (!File.Exists(db))
        {
            return 0;
        }

        try
        {
            return (long)RequestStoreTests.Scalar(db, "SELECT COUNT(*) FROM requests")!;
        }
        catch (SqliteException)
        {
            return 0; // the schema is not there yet
        }
    }

    internal static List<T> Column<T>(string db, string sql) => Rows(db, sql).Select(value => (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture)).ToList();

    internal static List<string> Rows(string db, string sql)
    {
        using var connection = RequestStore.OpenConnection(db);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? string.Empty : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }
}
