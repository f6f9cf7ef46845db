using System.Globalization;
using Pipeline.Handoffs;

namespace Pipeline.Benchmarks.LogAnalytics;

/// <summary>
/// A quick Stopwatch run of <see cref="AccessLogBenchmark"/>'s cases: <c>-- access-logs [lines] [extra sample arguments...]</c>.
/// Runs the loop, then the pipeline with each handoff kind, on one generated log, and prints lines/s and the ratio to the loop. Each is
/// run once untimed on a short log first, so that the timed runs measure compiled code, not the JIT.
/// </summary>
public static class AccessLogHarness
{
    /// <summary>The lines of the log that the untimed warm-up runs read.</summary>
    private const int WarmUpLines = 50_000;

    private static readonly HandoffKind[] Kinds = [HandoffKind.Condition, HandoffKind.Semaphore, HandoffKind.Channel];

    public static async Task RunAsync(string[] args)
    {
        var lines = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
        var extra = args.Skip(2).ToArray();
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-access-log-benchmark");
        Directory.CreateDirectory(folder);
        var input = AccessLogRuns.EnsureLog(folder, lines);
        await BreakdownAsync(input).ConfigureAwait(false);

        // Warm-up, untimed: the loop and each pipeline once over a short log, so that none of the timed runs below pays for compiling
        // its code (the first pipeline run would otherwise compile the engine: about 1 s of CPU on this machine).
        var warmUpInput = AccessLogRuns.EnsureLog(folder, WarmUpLines);
        await AccessLogRuns.LoopAsync(warmUpInput, folder).ConfigureAwait(false);
        foreach (var kind in Kinds)
        {
            await AccessLogRuns.PipelineAsync(warmUpInput, folder, kind, extra).ConfigureAwait(false);
        }

        var cpu = Cpu();
        var collections = Collections();
        var loop = await AccessLogRuns.LoopAsync(input, folder).ConfigureAwait(false);
        var loopCpu = Cpu() - cpu;
        var loopCollections = Collections(collections);
        var loopRate = loop.Read / loop.Elapsed.TotalSeconds;
        Console.WriteLine($"loop               {loop.Read:N0} lines in {loop.Elapsed.TotalSeconds,6:N2} s = {loopRate,9:N0} lines/s, CPU {loopCpu.TotalMicroseconds / loop.Read:N2} us/line, GCs {loopCollections}");
        foreach (var kind in Kinds)
        {
            cpu = Cpu();
            collections = Collections();
            var run = await AccessLogRuns.PipelineAsync(input, folder, kind, extra).ConfigureAwait(false);
            // The report's queries over the finished database come after the pipeline's time and are not the loop's work: timed
            // apart on the same database and left out of the run's CPU.
            var runCollections = Collections(collections);
            var reportCpu = AccessLogRuns.TimeReportQueries(folder, kind, run.Report);
            var runCpu = Cpu() - cpu - (2 * reportCpu);
            var rate = run.Read / run.Elapsed.TotalSeconds;
            Console.WriteLine($"pipeline {kind,-9} {run.Read:N0} lines in {run.Elapsed.TotalSeconds,6:N2} s = {rate,9:N0} lines/s ({rate / loopRate:N2}x loop), CPU {runCpu.TotalMicroseconds / run.Read:N2} us/line (report's queries, {reportCpu.TotalMilliseconds:N0} ms, left out), GCs {runCollections}");
        }
    }

    /// <summary>Where the loop's time goes: reading alone, then reading, parsing and enriching (the rest of the loop's time is the store).</summary>
    private static async Task BreakdownAsync(string input)
    {
        var cpu = Cpu();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long lines = 0;
        await foreach (var line in global::LogAnalytics.AccessLogSource.ReadAllAsync(input).ConfigureAwait(false))
        {
            lines++;
        }

        var readOnly = watch.Elapsed;
        var readCpu = Cpu() - cpu;
        cpu = Cpu();
        watch.Restart();
        long parsed = 0;
        await foreach (var line in global::LogAnalytics.AccessLogSource.ReadAllAsync(input).ConfigureAwait(false))
        {
            try
            {
                parsed += global::LogAnalytics.Enricher.Enrich(global::LogAnalytics.AccessLogParser.Parse(line)).IsBot ? 1 : 0;
            }
            catch (FormatException)
            {
                parsed--;
            }
        }

        var readParse = watch.Elapsed;
        var readParseCpu = Cpu() - cpu;
        Console.WriteLine($"breakdown          read {lines / readOnly.TotalSeconds,9:N0} lines/s; read+parse+enrich {lines / readParse.TotalSeconds,9:N0} lines/s ({(readParse - readOnly).TotalMicroseconds / lines:N2} us/line parse+enrich); CPU read {readCpu.TotalMicroseconds / lines:N2} us/line, read+parse+enrich {readParseCpu.TotalMicroseconds / lines:N2} us/line");
    }

    /// <summary>Collections so far of generations 0, 1 and 2 (each counts the younger ones too), and the time threads were paused for them.</summary>
    private static (int Gen0, int Gen1, int Gen2, TimeSpan Paused) Collections() =>
        (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    /// <summary>Collections since <paramref name="before"/>, as <c>gen0/gen1/gen2</c>, and the pause time.</summary>
    private static string Collections((int Gen0, int Gen1, int Gen2, TimeSpan Paused) before)
    {
        var now = Collections();
        return $"{now.Gen0 - before.Gen0}/{now.Gen1 - before.Gen1}/{now.Gen2 - before.Gen2} (paused {(now.Paused - before.Paused).TotalMilliseconds:N0} ms)";
    }

    private static TimeSpan Cpu() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
}
