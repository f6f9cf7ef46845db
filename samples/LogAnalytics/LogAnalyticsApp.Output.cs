using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline;

namespace LogAnalytics;

/// <summary>What each role prints: a progress line per interval, and a summary or report at the end.</summary>
public static partial class LogAnalyticsApp
{
    /// <summary>Returns <c>Pipelines:access-logs:Progress:Interval</c> when set (the engine's progress log uses it too), else 5 seconds.</summary>
    private static TimeSpan GetProgressInterval(string? configured) =>
        TimeSpan.TryParse(configured, CultureInfo.InvariantCulture, out var interval)
        && interval > TimeSpan.Zero
            ? interval
            : s_progressInterval;

    private static async Task PrintProgressAsync(
        IServiceProvider services, LogAnalyticsSettings settings, PipelineHostedService service, TextWriter output, Stopwatch elapsed, TimeSpan interval, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval);
        string? previous = null;
        long previousRead = 0;
        var previousAt = TimeSpan.Zero;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false) && !service.Completion.IsCompleted)
            {
                if (service.Run is not { } run)
                {
                    continue;
                }

                var statistics = run.GetStatistics();
                var read = statistics[0].Produced;

                // The rate since the previous line, not since the start: a followed input that waits for lines shows 0/s.
                var now = elapsed.Elapsed;
                var rate = (read - previousRead) / Math.Max((now - previousAt).TotalSeconds, 1e-3);
                (previousRead, previousAt) = (read, now);
                var deadLettered = statistics.Sum(s => s.DeadLettered);
                var line = settings.Role switch
                {
                    ProcessRole.Producer =>
                        $"progress: read {read:N0} lines ({rate:N0}/s), appended {services.GetRequiredService<StreamPublisher>().Appended:N0} to stream '{settings.RedisStream}', dead-lettered {deadLettered:N0}",
                    ProcessRole.Consumer => ConsumerProgress(services, read),
                    _ => $"progress: read {read:N0} lines ({rate:N0}/s), stored {Stored(services):N0}, dead-lettered {deadLettered:N0}",
                };
                if (string.Equals(line, previous, StringComparison.Ordinal))
                {
                    // A consumer waiting for entries, or a followed input waiting for lines, says so once, not every interval.
                    continue;
                }

                previous = line;
                await output.WriteLineAsync(line).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The host is stopping: the report follows.
        }
    }

    private static string ConsumerProgress(IServiceProvider services, long taken)
    {
        var source = services.GetRequiredService<StreamEntrySource>();
        if (taken == 0)
        {
            return $"progress ({source.Consumer}): waiting for entries";
        }

        var rate = taken / Stopwatch.GetElapsedTime(source.FirstTakenTimestamp).TotalSeconds;
        return $"progress ({source.Consumer}): took {taken:N0} entries ({rate:N0}/s), stored {Stored(services):N0}, acknowledged {source.Acknowledged:N0}{FirstByAnother(source.Acknowledged, source.AcknowledgedPending)}, dead-lettered {ConsumerDeadLettered(services):N0}";
    }

    /// <summary>
    /// " (N first by another consumer)" when some of the entries this consumer acknowledged had been claimed by another consumer
    /// (this one held them past the claim idle time) and acknowledged by it first; empty otherwise. Both processed those entries.
    /// </summary>
    internal static string FirstByAnother(long acknowledged, long acknowledgedPending)
    {
        var first = acknowledged - acknowledgedPending;
        return first > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({first:N0} first by another consumer)") : string.Empty;
    }

    /// <summary>Requests the store stage has written, new or already stored.</summary>
    private static long Stored(IServiceProvider services)
    {
        var sink = services.GetRequiredService<StoreSink>();
        return sink.Inserted + sink.AlreadyStored;
    }

    /// <summary>What a consumer dead-lettered: by its stages and by its Redis source (all of it goes through its own store).</summary>
    private static long ConsumerDeadLettered(IServiceProvider services) => (services.GetService<IDeadLetterStore>() as CountingDeadLetterStore)?.Count ?? 0;

    private static string Describe(PipelineResult result) => result.Status switch
    {
        PipelineStatus.Completed => "completed",
        PipelineStatus.Stopped => "stopped early",
        PipelineStatus.Faulted => $"faulted in stage '{result.FaultedStage}': {result.Exception?.Message}",
        _ => "aborted",
    };

    private static TrafficReport AllReport(IServiceProvider services, LogAnalyticsSettings settings, PipelineResult result, TimeSpan elapsed, bool replay)
    {
        var sink = services.GetRequiredService<StoreSink>();
        var run = new TrafficReport
        {
            Complete = result.Status == PipelineStatus.Completed,
            Replay = replay,
            StoppedFollowing = settings.Follow && result.Status == PipelineStatus.Stopped,
            Outcome = Describe(result),
            Read = result.Stages[0].Produced,
            Stored = sink.Inserted,
            AlreadyStored = sink.AlreadyStored,
            DeadLettered = LinesFailed(result),
            OtherDeadLetters = Math.Max(0, result.Stages.Sum(stage => stage.DeadLettered) - LinesFailed(result)),
            DeadLetterPath = services.GetRequiredService<IConfiguration>()[DeadLetterPathKey],
            Elapsed = elapsed,
            Bottleneck = DescribeTime(result.Bottleneck, settings),
        };
        return TrafficReport.Query(settings.StorePath, run);
    }

    private static TrafficReport ConsumerReport(IServiceProvider services, LogAnalyticsSettings settings, PipelineResult result, bool done)
    {
        var sink = services.GetRequiredService<StoreSink>();
        var source = services.GetRequiredService<StreamEntrySource>();
        var stageDeadLettered = result.Stages.Sum(stage => stage.DeadLettered);
        var run = new TrafficReport
        {
            Role = ProcessRole.Consumer,
            Consumer = source.Consumer,
            Group = settings.RedisGroup,
            Complete = result.Status != PipelineStatus.Faulted,
            Outcome = result.Status switch
            {
                PipelineStatus.Faulted => Describe(result),
                _ when done => "done: the producer read its input to the end and the group has acknowledged every entry",
                _ => "stopped; entries not taken yet stay in the stream for the group's other consumers",
            },
            Read = result.Stages[0].Produced,
            Stored = sink.Inserted,
            AlreadyStored = sink.AlreadyStored,
            DeadLettered = stageDeadLettered,
            DeadLetterPath = (services.GetService<IDeadLetterStore>() as CountingDeadLetterStore)?.Path,
            Acknowledged = source.Acknowledged,
            AcknowledgedPending = source.AcknowledgedPending,
            StreamDeadLettered = Math.Max(0, ConsumerDeadLettered(services) - stageDeadLettered),
            Elapsed = source.FirstTakenTimestamp == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(source.FirstTakenTimestamp),
            Bottleneck = DescribeTime(result.Bottleneck, settings),
        };
        return TrafficReport.Query(settings.StorePath, run);
    }

    /// <summary>
    /// The lines that failed and were dead-lettered, counted where they are still lines (before the batch step): what a stage gave
    /// up because the run stopped — a whole batch of lines counts as one dead letter there — is not among them, since the next run
    /// reads those lines again. A stage counts at most the dead letters its store took: a line whose dead letter could not be
    /// written (the run then faults) is not counted as kept.
    /// </summary>
    private static long LinesFailed(PipelineResult result) =>
        result.Stages.TakeWhile(stage => stage.StageName != "batch").Sum(stage => Math.Min(stage.Failed, stage.DeadLettered));

    /// <summary>
    /// The engine's bottleneck report, with the store's own advice when it limits the run: the engine suggests more workers, which
    /// one SQLite writer cannot use (the store takes only Parallelism 1).
    /// </summary>
    private static string DescribeTime(BottleneckReport report, LogAnalyticsSettings settings) =>
        report.LimitingStage == "store"
            ? report.Text.Replace(report.Advice, string.Create(CultureInfo.InvariantCulture,
                $"store limits the run: SQLite has one writer, so raise Store:BatchSize (now {settings.BatchSize}) for fewer, larger transactions, or put the database on faster storage."), StringComparison.Ordinal)
            : report.Text;

    private static string ProducerSummary(LogAnalyticsSettings settings, PipelineResult result, long appended, TimeSpan elapsed, string? endOfInputKey, string? deadLetterPath)
    {
        var c = CultureInfo.InvariantCulture;
        var read = result.Stages[0].Produced;
        var deadLettered = result.Stages.Sum(stage => stage.DeadLettered);
        var text = new StringBuilder();
        var complete = result.Status == PipelineStatus.Completed;
        text.AppendLine(c, $"Producer summary ({Describe(result)}{(complete || result.Status == PipelineStatus.Faulted ? string.Empty : ": PARTIAL, the input was not read to the end")})");
        text.AppendLine(c, $"  this run   read {read:N0} lines = appended {appended:N0} to stream '{settings.RedisStream}' + dead-lettered {deadLettered:N0}{(read == appended + deadLettered ? string.Empty : "  (unbalanced: lines lost or still in flight)")}");
        text.AppendLine(c, $"  throughput {(elapsed > TimeSpan.Zero ? read / elapsed.TotalSeconds : 0):N0} lines/s ({elapsed.TotalSeconds:N1} s)");
        if (result.Bottleneck.Text.Length > 0 && read > 0)
        {
            text.AppendLine(c, $"  time       {result.Bottleneck.Text}");
        }

        if (deadLettered > 0 && deadLetterPath is not null)
        {
            text.AppendLine(c, $"  dead letters in {deadLetterPath}");
        }

        text.AppendLine(endOfInputKey is null
            ? "  end        not marked: consumers started with ExitWhenDone=true keep waiting"
            : $"  end        marked at key '{endOfInputKey}': consumers started with ExitWhenDone=true end once the group has acknowledged every entry");
        return text.ToString();
    }
}
