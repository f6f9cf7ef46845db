using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Redis.Tests;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace LogAnalytics.Tests;

/// <summary>
/// The sample split across processes at a real Redis stream: one producer and two consumers of the same group and SQLite file, one
/// consumer killed (SIGKILL) mid-run; the survivor takes over its pending entries.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed partial class RoleProcessTests(RedisServerFixture redis, ITestOutputHelper output)
{
    private const int Lines = 100_000;
    private const string Group = "store";
    private static readonly TimeSpan s_processBound = TimeSpan.FromSeconds(75);

    [Theory(Timeout = 100_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ProducerAndTwoConsumers_OneConsumerKilledMidRun_EveryLineStoredOnceOrDeadLetteredAndTheGroupHasNothingPending(int seed)
    {
        using var folder = new TempDirectory();
        var log = LogGenerator.Write(folder.File("access.log"), new LogGeneratorOptions { Lines = Lines, CommonShare = 0.2, MalformedShare = 0.005, Seed = (ulong)seed });
        var stream = $"access-logs-{seed}-{Guid.NewGuid():N}";
        var random = new Random(seed);
        var victimIndex = random.Next(2);
        var killAtStored = random.Next(2_000, 20_000);
        string[] common =
        [
            "--Logging:LogLevel:Default=Warning",
            $"--Store:Path={folder.File("db.sqlite")}",
            $"--Pipelines:access-logs:DeadLetter:Path={folder.File("dead.jsonl")}",
            $"--Pipelines:access-logs:Redis:ConnectionString={redis.ConnectionString}",
            $"--Pipelines:access-logs:Redis:Stream={stream}",
            "--Pipelines:access-logs:Redis:ClaimIdleTime=00:00:01",
            "--Pipelines:access-logs:Progress:Interval=00:00:00.100",
        ];

        // Small buffers keep a live consumer's entries far below the claim idle time, so that mostly the dead one's are taken over; a
        // consumer that stalls past it (a loaded machine) has some of its own claimed while it still holds them: see the accounting.
        string[] consumerArgs = [.. common, "--Role=consumer", "--ExitWhenDone=true", "--Store:BatchSize=200", "--Pipelines:access-logs:Handoff:Capacity=256",
            "--Pipelines:access-logs:Stages:store:Handoff:Capacity=1"];
        var killPoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumers = new SampleProcess[2];
        var lastProgress = new string?[2];
        try
        {
            for (var index = 0; index < consumers.Length; index++)
            {
                var me = index;
                consumers[index] = SampleProcess.Start($"consumer c{index}", folder.Path, [.. consumerArgs, $"--Pipelines:access-logs:Redis:Consumer=c{index}"], line =>
                {
                    if (ProgressLine().Match(line) is not { Success: true } progress)
                    {
                        return;
                    }

                    lastProgress[me] = line;
                    if (me == victimIndex && Number(progress, "stored") >= killAtStored)
                    {
                        killPoint.TrySetResult(line);
                    }
                });
            }

            using var producer = SampleProcess.Start("producer", folder.Path, [.. common, "--Role=producer", $"--Input:Path={log.Path}"]);
            var victim = consumers[victimIndex];
            var survivor = consumers[1 - victimIndex];

            // Killed when its own output says it has stored the seed's number of requests: a point in its run, not in time.
            var first = await Task.WhenAny(killPoint.Task, victim.Exited, survivor.Exited).WaitAsync(s_processBound);
            Assert.True(first == killPoint.Task && !victim.HasExited,
                $"{victim.Name} did not reach {killAtStored:N0} stored before a consumer ended.{Environment.NewLine}"
                + $"{victim.Name}:{Environment.NewLine}{victim.Output}{Environment.NewLine}{survivor.Name}:{Environment.NewLine}{survivor.Output}");
            var killedAt = killPoint.Task.Result;
            victim.Kill();
            await victim.WaitForExitAsync(s_processBound);
            var victimAcknowledgedPending = AcknowledgedPending(ProgressLine().Match(lastProgress[victimIndex]!));
            var victimPending = await redis.Database.StreamPendingMessagesAsync(stream, Group, 100, $"c{victimIndex}");
            Assert.True(victimPending.Length > 0, $"{victim.Name} held no pending entries when killed at '{killedAt}': nothing for the survivor to take over.");

            Assert.True(await producer.WaitForExitAsync(s_processBound) == 0, producer.Output);
            Assert.True(await survivor.WaitForExitAsync(s_processBound) == 0, survivor.Output);
            output.WriteLine($"{victim.Name} killed at '{killedAt}' holding {victimPending.Length}+ pending entries");
            output.WriteLine(producer.Output);
            output.WriteLine(survivor.Output);

            // The producer: every line read is in the stream or, malformed, in the dead-letter file.
            var produced = ProducerSummary().Match(producer.Output);
            Assert.True(produced.Success, producer.Output);
            var appended = Number(produced, "appended");
            Assert.Equal(Lines, Number(produced, "read"));
            Assert.Equal(log.MalformedOffsets.Count, Number(produced, "dead"));
            Assert.Equal(Lines - log.MalformedOffsets.Count, appended);
            Assert.Equal(appended, await EntriesAddedAsync(redis.Database, stream));

            // The consumers trimmed what the group had acknowledged as they went (never what it still needed: see the SQLite checks).
            Assert.True(await redis.Database.StreamLengthAsync(stream) < appended, "the consumers trimmed nothing");

            // The group: nothing pending, every entry delivered.
            var pending = await redis.Database.StreamPendingAsync(stream, Group);
            Assert.Equal(0, pending.PendingMessageCount);
            var groupInfo = (await redis.Database.StreamGroupInfoAsync(stream)).Single(info => info.Name == Group);
            Assert.Equal((await redis.Database.StreamInfoAsync(stream)).LastGeneratedId.ToString(), groupInfo.LastDeliveredId);

            // The survivor: what it took is accounted for and acknowledged; it took over some of what the victim held.
            var report = ConsumerReport().Match(survivor.Output);
            Assert.True(report.Success, survivor.Output);
            var (taken, stored, alreadyStored, deadLettered) = (Number(report, "took"), Number(report, "stored"), Number(report, "already"), Number(report, "dead"));
            var (acknowledged, acknowledgedPending, streamDeadLettered) = (Number(report, "acknowledged"), AcknowledgedPending(report), Number(report, "streamDead"));
            Assert.Equal(taken, stored + alreadyStored + deadLettered);
            Assert.Equal(taken, acknowledged);
            Assert.InRange(acknowledgedPending, 0, acknowledged);
            Assert.Contains("done: the producer read its input to the end", survivor.Output, StringComparison.Ordinal);

            // Across the processes: each entry leaves the group's pending list once, by one consumer's XACK (its Redis source counts
            // the replies: acknowledged less "first by another consumer") or dead-lettering, so produced = the survivor's + the victim's. Not their "acknowledged":
            // an entry both processed is in both — a consumer stalled past the claim idle time (either one) has entries claimed by the
            // other while it still holds them, finishes them, and acknowledges them too (second, taking nothing off). The victim's count is known up
            // to its last progress line (it was killed after it, and may have acknowledged more): its share is what the survivor's
            // leaves, and at least what it last reported.
            var consumerDeadLetters = DeadLetterOffsets(folder, consumer: true);
            Assert.Empty(consumerDeadLetters);
            Assert.Equal(0, deadLettered + streamDeadLettered);
            var victimShare = appended - acknowledgedPending - streamDeadLettered;
            Assert.True(victimShare >= victimAcknowledgedPending,
                $"The survivor's acknowledgements took {acknowledgedPending:N0} of {appended:N0} entries off the pending list, which leaves {victimShare:N0} to the victim, "
                + $"but the victim's had taken off {victimAcknowledgedPending:N0}.");

            // SQLite: every well-formed line exactly once, every malformed one dead-lettered by the producer, aggregates consistent.
            var db = folder.File("db.sqlite");
            var storedOffsets = LogAnalyticsAppTests.Rows(db, "SELECT offset FROM requests").Select(long.Parse).ToList();
            Assert.Equal(appended, storedOffsets.Count);
            var producerDeadLetters = DeadLetterOffsets(folder, consumer: false);
            Assert.Equal(log.MalformedOffsets.Order(), producerDeadLetters.Order());
            Assert.Equal(AllOffsets(log.Path), storedOffsets.Concat(producerDeadLetters).Order().ToList());
            Assert.Single(LogAnalyticsAppTests.Rows(db, "SELECT DISTINCT source FROM requests"));
            LogAnalyticsAppTests.AssertAggregatesMatchRequests(db);
        }
        finally
        {
            foreach (var consumer in consumers)
            {
                consumer?.Dispose();
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Consumer_UnreadableEntry_DeadLettersItToItsOwnFileAndEndsWithNothingPending()
    {
        using var folder = new TempDirectory();
        var stream = "access-logs-unreadable-" + Guid.NewGuid().ToString("N");
        var entry = AccessLogParser.Parse(new LogLine("/logs/a.log#0011223344556677", 42,
            """10.0.0.1 - - [15/Mar/2026:08:00:05 +0000] "GET /api/orders/5 HTTP/1.1" 200 10 "-" "curl/8.5.0" """.TrimEnd()));
        await redis.Database.StreamAddAsync(stream, "item", "{not json");
        await redis.Database.StreamAddAsync(stream, "item", JsonSerializer.Serialize(entry, AccessLogJsonContext.Default.AccessLogEntry));
        await redis.Database.StringSetAsync(stream + ":end-of-input", 2);

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(
        [
            "--Role=consumer", "--ExitWhenDone=true", "--Logging:LogLevel:Default=None", $"--Store:Path={folder.File("db.sqlite")}",
            $"--Pipelines:access-logs:DeadLetter:Path={folder.File("dead.jsonl")}",
            $"--Pipelines:access-logs:Redis:ConnectionString={redis.ConnectionString}", $"--Pipelines:access-logs:Redis:Stream={stream}",
            "--Pipelines:access-logs:Redis:Consumer=c/1",
        ], TextWriter.Null).WaitAsync(s_processBound);

        Assert.Equal(0, exitCode);
        Assert.Equal((1L, 1L, 1L, 1L), (report!.Read, report.Stored, report.Acknowledged, report.StreamDeadLettered));
        Assert.Equal(0, (await redis.Database.StreamPendingAsync(stream, Group)).PendingMessageCount);
        Assert.Equal(1, LogAnalyticsAppTests.CountRows(folder.File("db.sqlite")));
        var deadLetter = JsonDocument.Parse(Assert.Single(File.ReadAllLines(folder.File("dead.c_1.jsonl")))).RootElement;
        Assert.Equal("Unreadable", deadLetter.GetProperty("reason").GetString());
        Assert.False(File.Exists(folder.File("dead.jsonl")), "A consumer writes its dead letters to a file of its own.");
    }

    [Fact(Timeout = 60_000)]
    public async Task Producer_RedisUnreachable_ExitsWithStartFailedNamingTheEndpointAndTheSetting()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(folder.File("access.log"), "");
        using var producer = SampleProcess.Start("producer", folder.Path,
        [
            "--Role=producer", $"--Input:Path={folder.File("access.log")}", $"--Store:Path={folder.File("db.sqlite")}",
            "--Pipelines:access-logs:Redis:ConnectionString=127.0.0.1:1,connectTimeout=1000,password=secret",
        ]);

        var exitCode = await producer.WaitForExitAsync(s_processBound);

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Contains("Cannot reach Redis at 127.0.0.1:1 (Pipelines:access-logs:Redis:ConnectionString)", producer.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", producer.Output, StringComparison.Ordinal);
    }

    /// <summary>Returns how many entries were ever added to the stream (<c>XINFO STREAM</c>'s <c>entries-added</c>), trimmed ones too.</summary>
    private static async Task<long> EntriesAddedAsync(StackExchange.Redis.IDatabase database, string stream)
    {
        var info = (StackExchange.Redis.RedisResult[])(await database.ExecuteAsync("XINFO", "STREAM", stream))!;
        for (var index = 0; index + 1 < info.Length; index += 2)
        {
            if ((string?)info[index] == "entries-added")
            {
                return (long)info[index + 1];
            }
        }

        throw new InvalidOperationException("XINFO STREAM reports no entries-added: Redis 7 or later is needed.");
    }

    [GeneratedRegex(@"progress \(c\d\): took (?<took>[\d,]+) entries \([\d,]+/s\), stored (?<stored>[\d,]+), acknowledged (?<acknowledged>[\d,]+)( \((?<first>[\d,]+) first by another consumer\))?,")]
    private static partial Regex ProgressLine();

    [GeneratedRegex(@"read (?<read>[\d,]+) lines = appended (?<appended>[\d,]+) to stream '[^']*' \+ dead-lettered (?<dead>[\d,]+)")]
    private static partial Regex ProducerSummary();

    [GeneratedRegex(@"took (?<took>[\d,]+) entries = stored (?<stored>[\d,]+) new \+ (?<already>[\d,]+) already stored \+ dead-lettered (?<dead>[\d,]+)(.|\n)*acknowledged (?<acknowledged>[\d,]+) of them to group '[^']*'( \((?<first>[\d,]+) first by another consumer\))?, and (?<streamDead>[\d,]+) more dead-lettered")]
    private static partial Regex ConsumerReport();

    /// <summary>The entries a consumer's acknowledgements took off the pending list: those it acknowledged, less those another consumer had acknowledged first.</summary>
    private static long AcknowledgedPending(Match match) =>
        Number(match, "acknowledged") - (match.Groups["first"].Success ? Number(match, "first") : 0);

    private static long Number(Match match, string group) => long.Parse(match.Groups[group].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    /// <summary>The offsets in the producer's dead-letter file, or in the consumers' own ones (<c>dead.&lt;consumer&gt;.jsonl</c>).</summary>
    private static List<long> DeadLetterOffsets(TempDirectory folder, bool consumer) =>
        Directory.GetFiles(folder.Path, "dead*.jsonl")
            .Where(path => consumer != (Path.GetFileName(path) == "dead.jsonl"))
            .SelectMany(File.ReadAllLines)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("item").GetProperty("Offset").GetInt64())
            .ToList();

    /// <summary>The byte offset of every line of <paramref name="path"/>, in order.</summary>
    private static List<long> AllOffsets(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var offsets = new List<long>();
        for (var start = 0; start < bytes.Length;)
        {
            offsets.Add(start);
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            start = end < 0 ? bytes.Length : end + 1;
        }

        return offsets;
    }
}
