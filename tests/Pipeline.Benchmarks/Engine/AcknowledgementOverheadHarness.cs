using System.Diagnostics;
using System.Globalization;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// 'ack-overhead [rounds]': the engine benchmark's chain from a plain and from an acknowledging source
/// (<see cref="ThreeStagePipelineBenchmark.EngineFromAsync"/>), run alternately, a pair per round, so that load that comes and
/// goes on a shared machine falls on both alike. Prints each pair and the median of the per-round ratios.
/// </summary>
internal static class AcknowledgementOverheadHarness
{
    public static async Task RunAsync(string[] args)
    {
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        for (var warmup = 0; warmup < 3; warmup++)
        {
            await ThreeStagePipelineBenchmark.EngineFromAsync(acknowledging: false).ConfigureAwait(false);
            await ThreeStagePipelineBenchmark.EngineFromAsync(acknowledging: true).ConfigureAwait(false);
        }

        var ratios = new List<double>();
        var cpuRatios = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            // Alternate which goes first, so neither always runs on a warmer or colder machine.
            var plainFirst = round % 2 == 0;
            var first = await TimeAsync(acknowledging: !plainFirst).ConfigureAwait(false);
            var second = await TimeAsync(acknowledging: plainFirst).ConfigureAwait(false);
            var (plain, acknowledging) = plainFirst ? (first, second) : (second, first);
            ratios.Add(acknowledging.Wall / plain.Wall);
            cpuRatios.Add(acknowledging.Cpu / plain.Cpu);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"round {round + 1,2}: plain {plain.Wall,6:F1} ns/item ({plain.Cpu,6:F1} CPU), acknowledging {acknowledging.Wall,6:F1} ns/item ({acknowledging.Cpu,6:F1} CPU), ratio {acknowledging.Wall / plain.Wall:F3} ({acknowledging.Cpu / plain.Cpu:F3} CPU)"));
        }

        ratios.Sort();
        cpuRatios.Sort();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"median ratio acknowledging / plain over {rounds} rounds: time {ratios[ratios.Count / 2]:F3} (min {ratios[0]:F3}, max {ratios[^1]:F3}), "
            + $"CPU {cpuRatios[cpuRatios.Count / 2]:F3} (min {cpuRatios[0]:F3}, max {cpuRatios[^1]:F3})"));
    }

    /// <summary>Runs once; returns the wall time and the process's CPU time, each in nanoseconds per item.</summary>
    private static async Task<(double Wall, double Cpu)> TimeAsync(bool acknowledging)
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        await ThreeStagePipelineBenchmark.EngineFromAsync(acknowledging).ConfigureAwait(false);
        var wall = Stopwatch.GetElapsedTime(started);
        process.Refresh();
        return (wall.TotalNanoseconds / ThreeStagePipelineBenchmark.Items, (process.TotalProcessorTime - cpu).TotalNanoseconds / ThreeStagePipelineBenchmark.Items);
    }
}
