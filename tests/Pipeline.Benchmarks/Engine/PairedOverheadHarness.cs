using System.Diagnostics;
using System.Globalization;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// Times several cases of one run in alternation, a round at a time, each against the first case (the baseline) of the same round,
/// so that load that comes and goes on a shared machine, and the engine's run-to-run swings, fall on every case alike. Prints each
/// round and, per case, the median of its per-round ratios to the baseline, in wall time and in the process's CPU time.
/// </summary>
internal static class PairedOverheadHarness
{
    /// <summary>Runs <paramref name="warmups"/> untimed rounds, then <paramref name="rounds"/> timed ones, each case once per round in a shuffled order.</summary>
    /// <param name="cases">The cases, the baseline first.</param>
    /// <param name="items">How many items each run of a case moves.</param>
    /// <param name="rounds">How many timed rounds.</param>
    /// <param name="warmups">How many untimed rounds first.</param>
    public static async Task RunAsync(IReadOnlyList<(string Name, Func<Task> Run)> cases, int items, int rounds, int warmups = 3)
    {
        for (var warmup = 0; warmup < warmups; warmup++)
        {
            foreach (var (_, run) in cases)
            {
                await run().ConfigureAwait(false);
            }
        }

        var wallRatios = cases.Select(_ => new List<double>()).ToArray();
        var cpuRatios = cases.Select(_ => new List<double>()).ToArray();

        // A new order each round, the same from run to run: no case always runs first, on a warmer or colder machine, nor always
        // right after the same other case.
        var random = new Random(1);
        var order = Enumerable.Range(0, cases.Count).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            var times = new (double Wall, double Cpu)[cases.Count];
            random.Shuffle(order);
            foreach (var index in order)
            {
                times[index] = await TimeAsync(cases[index].Run, items).ConfigureAwait(false);
            }

            var line = new System.Text.StringBuilder(string.Create(CultureInfo.InvariantCulture, $"round {round + 1,2}:"));
            for (var index = 0; index < cases.Count; index++)
            {
                wallRatios[index].Add(times[index].Wall / times[0].Wall);
                cpuRatios[index].Add(times[index].Cpu / times[0].Cpu);
                line.Append(CultureInfo.InvariantCulture, $" {cases[index].Name} {times[index].Wall:F1} ns/item ({times[index].Cpu:F1} CPU);");
            }

            Console.WriteLine(line.ToString());
        }

        for (var index = 1; index < cases.Count; index++)
        {
            var wall = wallRatios[index].Order().ToArray();
            var cpu = cpuRatios[index].Order().ToArray();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"median ratio {cases[index].Name} / {cases[0].Name} over {rounds} rounds: time {wall[wall.Length / 2]:F3} (min {wall[0]:F3}, max {wall[^1]:F3}), "
                + $"CPU {cpu[cpu.Length / 2]:F3} (min {cpu[0]:F3}, max {cpu[^1]:F3})"));
        }
    }

    /// <summary>Runs once; returns the wall time and the process's CPU time, each in nanoseconds per item.</summary>
    private static async Task<(double Wall, double Cpu)> TimeAsync(Func<Task> run, int items)
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        await run().ConfigureAwait(false);
        var wall = Stopwatch.GetElapsedTime(started);
        process.Refresh();
        return (wall.TotalNanoseconds / items, (process.TotalProcessorTime - cpu).TotalNanoseconds / items);
    }
}
