using System.Text.Json;

namespace LogAnalytics.Tests;

public sealed partial class RoleProcessTests
{
    [Fact(Timeout = 90_000)]
    public async Task Consumer_StartedAfterAFinishedRun_IgnoresItsEndMarkerAndEndsAtTheNextProducers()
    {
        using var folder = new TempDirectory();
        var stream = "access-logs-next-run-" + Guid.NewGuid().ToString("N");
        var endOfInput = stream + ":end-of-input";
        string[] Consumer(string name) =>
        [
            "--Role=consumer", "--ExitWhenDone=true", "--Logging:LogLevel:Default=None", $"--Store:Path={folder.File("db.sqlite")}",
            $"--Pipelines:access-logs:DeadLetter:Path={folder.File("dead.jsonl")}",
            $"--Pipelines:access-logs:Redis:ConnectionString={redis.ConnectionString}", $"--Pipelines:access-logs:Redis:Stream={stream}",
            $"--Pipelines:access-logs:Redis:Consumer={name}",
        ];

        // A finished run: one entry, marked, and consumed to the end.
        await AppendEntryAsync(stream, offset: 0);
        await redis.Database.StringSetAsync(endOfInput, "1 requests, run first");
        var (firstExit, first) = await LogAnalyticsApp.RunAsync(Consumer("c1"), TextWriter.Null).WaitAsync(s_processBound);
        Assert.Equal((0, 1L), (firstExit, first!.Read));

        // A marker is a finished run's only for a consumer started after that run ended: one started before it (another consumer
        // drained the group first) has joined that run, and ends with it.
        var marks = new EndOfInput(redis.Database.Multiplexer, stream);
        var ended = DateTimeOffset.UtcNow;
        var marker = $"1 requests, run timed, ended {ended:O}";
        await redis.Database.StringSetAsync(endOfInput, marker);
        Assert.Null(await marks.FindFinishedRunAsync(Group, ended - TimeSpan.FromSeconds(1)));
        Assert.Equal(marker, await marks.FindFinishedRunAsync(Group, ended + TimeSpan.FromSeconds(1)));
        await redis.Database.StringSetAsync(endOfInput, "1 requests, run first");

        // A consumer started now, before the next producer, finds that run's marker with nothing left for the group.
        var output = new LineSignalWriter("is a finished run's");
        var second = LogAnalyticsApp.RunAsync(Consumer("c2"), output);
        await output.Seen.WaitAsync(s_processBound);
        Assert.False(second.IsCompleted, "The consumer ended at the finished run's marker.");

        // The next producer: clears the marker, appends, marks its own end.
        await redis.Database.KeyDeleteAsync(endOfInput);
        await AppendEntryAsync(stream, offset: 100);
        await redis.Database.StringSetAsync(endOfInput, "1 requests, run second");
        var (secondExit, report) = await second.WaitAsync(s_processBound);

        Assert.Equal((0, 1L, 1L), (secondExit, report!.Read, report.Stored));
        Assert.Equal(2, LogAnalyticsAppTests.CountRows(folder.File("db.sqlite")));
        Assert.Contains($"The end-of-input marker at key '{endOfInput}' (1 requests, run first) is a finished run's", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"  dead letters none yet (the file {folder.File("dead.c2.jsonl")} is made at the first)", output.ToString(), StringComparison.Ordinal);
    }

    private async Task AppendEntryAsync(string stream, long offset)
    {
        var entry = AccessLogParser.Parse(new LogLine("/logs/a.log#0011223344556677", offset,
            """10.0.0.1 - - [15/Mar/2026:08:00:05 +0000] "GET /api/orders/5 HTTP/1.1" 200 10 "-" "curl/8.5.0" """.TrimEnd()));
        await redis.Database.StreamAddAsync(stream, "item", JsonSerializer.Serialize(entry, AccessLogJsonContext.Default.AccessLogEntry));
    }
}
