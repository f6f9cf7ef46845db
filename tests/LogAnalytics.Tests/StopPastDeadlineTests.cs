using Microsoft.Data.Sqlite;

namespace LogAnalytics.Tests;

/// <summary>
/// A run stopped while its store cannot write (another process holds the database's write lock) gives up what it holds at the
/// shutdown deadline: the dead-letter file then holds more records than the report's dead-lettered lines, and the report says how
/// many more, so the file and the report agree.
/// </summary>
public sealed class StopPastDeadlineTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_StoppedWithTheDatabaseLocked_ReportsTheRecordsGivenUpBesideTheMalformedLines()
    {
        using var folder = new TempDirectory();
        var input = folder.File("access.log");
        var lines = new List<string> { "not a log line", "nor this one" };
        lines.AddRange(Enumerable.Range(0, 50_000).Select(i => $"""10.0.0.{i % 250} - - [15/Mar/2026:08:00:{i % 60:00} +0000] "GET /a/{i} HTTP/1.1" 200 {i}"""));
        await File.WriteAllLinesAsync(input, lines);

        // Another connection holds the database's write lock from the start: the store cannot commit, so the run fills its
        // handoffs, the stop cannot drain, and the run is given up at the deadline.
        var database = folder.File("db.sqlite");
        RequestStore.Open(database).Dispose();
        using var locker = new SqliteConnection($"Data Source={database}");
        locker.Open();
        using (var begin = locker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();
        }

        using var stop = new CancellationTokenSource();
        var output = new LineSignalWriter("progress: read");
        var run = LogAnalyticsApp.RunAsync(
            [.. LogAnalyticsAppTests.Args(folder, input), "--Store:BatchSize=100", "--shutdownTimeoutSeconds=2", "--Pipelines:access-logs:Progress:Interval=00:00:00.1"],
            output,
            stop.Token);
        await Task.WhenAny(output.Seen, run).WaitAsync(s_timeout);
        Assert.True(output.Seen.IsCompleted, $"The run ended before it printed its progress: {output}");
        await stop.CancelAsync();
        var (exitCode, report) = await run.WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.AbortedExitCode, exitCode);
        Assert.NotNull(report);
        Assert.True(report.OtherDeadLetters > 0, output.ToString());
        var records = File.ReadAllLines(folder.File("dead.jsonl")).Length;
        Assert.Equal(report.DeadLettered + report.OtherDeadLetters, records);
        Assert.Contains($"this run wrote {report.OtherDeadLetters:N0} more records to it than the {report.DeadLettered:N0} lines above", report.ToString(), StringComparison.Ordinal);
    }
}
