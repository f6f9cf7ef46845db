using System.Diagnostics;
using LogAnalytics;
using Pipeline.Handoffs;

namespace Pipeline.Benchmarks.LogAnalytics;

/// <summary>Runs the loop and the sample's pipeline (one handoff kind) on a generated log, each into a fresh database.</summary>
public static class AccessLogRuns
{
    /// <summary>Generates (once) a log of <paramref name="lines"/> lines under <paramref name="folder"/> and returns its path.</summary>
    public static string EnsureLog(string folder, int lines)
    {
        var path = Path.Combine(folder, $"access-{lines}.log");
        if (!File.Exists(path))
        {
            LogGenerator.Write(path, new LogGeneratorOptions { Lines = lines });
        }

        return path;
    }

    /// <summary>Runs the plain loop; returns the lines read and the wall time.</summary>
    public static async Task<(long Read, TimeSpan Elapsed)> LoopAsync(string inputPath, string folder)
    {
        var store = FreshStore(folder, "loop");
        var watch = Stopwatch.StartNew();
        var (read, stored, malformed) = await AccessLogLoop.RunAsync(inputPath, store, batchSize: 1000).ConfigureAwait(false);
        watch.Stop();
        if (read != stored + malformed)
        {
            throw new InvalidOperationException($"Loop lost lines: read {read}, stored {stored}, malformed {malformed}");
        }

        return (read, watch.Elapsed);
    }

    /// <summary>
    /// Runs the sample's host with handoff <paramref name="kind"/>; returns the lines read, the pipeline's wall time (from the host's
    /// start to the pipeline's end, as the report gives it: the report's queries over the finished database come after it) and the
    /// report.
    /// </summary>
    public static async Task<(long Read, TimeSpan Elapsed, TrafficReport Report)> PipelineAsync(string inputPath, string folder, HandoffKind kind, params string[] extraArgs)
    {
        var store = FreshStore(folder, kind.ToString());
        string[] args =
        [
            $"--Input:Path={inputPath}", $"--Store:Path={store}", $"--Pipelines:access-logs:Handoff:Kind={kind}",
            $"--Pipelines:access-logs:DeadLetter:Path={Path.Combine(folder, $"dead-letters-{kind}.jsonl")}",
            "--Logging:LogLevel:Default=Error", .. extraArgs,
        ];
        var (exitCode, report) = await LogAnalyticsApp.RunAsync(args, TextWriter.Null).ConfigureAwait(false);
        if (exitCode != 0 || report is null || report.Read != report.Stored + report.DeadLettered)
        {
            throw new InvalidOperationException($"Pipeline run failed: exit code {exitCode}, {report}");
        }

        return (report.Read, report.Elapsed, report);
    }

    /// <summary>
    /// Runs the report's queries of <paramref name="report"/> again over the database of the pipeline run with <paramref name="kind"/>
    /// and returns their CPU time: the part of the sample's run that comes after the pipeline and is not the loop's work.
    /// </summary>
    public static TimeSpan TimeReportQueries(string folder, HandoffKind kind, TrafficReport report)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        _ = TrafficReport.Query(StorePath(folder, kind.ToString()), report);
        return Process.GetCurrentProcess().TotalProcessorTime - cpu;
    }

    private static string StorePath(string folder, string name) => Path.Combine(folder, $"store-{name}.db");

    private static string FreshStore(string folder, string name)
    {
        var path = StorePath(folder, name);
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }

        // The read stage's checkpoint sits beside the database: without this, the run would resume at the end of the input.
        foreach (var checkpoint in Directory.EnumerateFiles(folder, $"store-{name}.db.*.checkpoint"))
        {
            File.Delete(checkpoint);
        }

        return path;
    }
}
