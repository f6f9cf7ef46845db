using System.Globalization;
using Xunit.Abstractions;
using static Pipeline.Tests.Sources.CrashRunFiles;

namespace Pipeline.Tests.Sources;

/// <summary>
/// A worker service with a <see cref="FileSource"/> (the test worker's <c>file</c> mode) is killed with SIGKILL at a moment chosen by
/// a seed, restarted on the same files, and let finish: every input line is then in the output or the dead-letter file, and the
/// only duplicates are lines delivered before the kill that the checkpoint did not cover yet, never more than the in-flight bound.
/// </summary>
public sealed class FileSourceCrashTests(ITestOutputHelper output)
{
    private const int LineCount = 100_000;

    // The worker's shape: read → [ParseCapacity] → parse ×Parallelism → [BatchCapacity] → batch of BatchSize → [AppendCapacity batches] → append.
    private const int ParseCapacity = 64;
    private const int Parallelism = 4;
    private const int BatchCapacity = 64;
    private const int BatchSize = 32;
    private const int AppendCapacity = 4;

    /// <summary>
    /// The most items the worker can hold between the source and the end of the sink: the one the source has read and not yet handed
    /// on, the parse handoff, one per parse worker, the batch handoff, the batch being formed, the append handoff's batches and the
    /// batch being appended. 1 + 64 + 4 + 64 + 32 + 4 × 32 + 32 = 325.
    /// </summary>
    private const int InFlightBound = 1 + ParseCapacity + Parallelism + BatchCapacity + BatchSize + (AppendCapacity * BatchSize) + BatchSize;

    /// <summary>
    /// How far the source may run ahead of its last acknowledgement (<see cref="AcknowledgementSettings.MaxPending"/>): the largest
    /// power of two within the in-flight bound, so that lines accounted for and not yet acknowledged add nothing to the bound.
    /// </summary>
    private const int MaxPending = 256;

    /// <summary>The bound on every wait: a hang fails the test instead of the run.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Theory(Timeout = 60_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Worker_KilledAndRestarted_EveryLineOnceOrInFlightAtTheKill(int seed)
    {
        var plan = SeededRandom(seed);
        var killAt = plan.Next(LineCount / 10, LineCount * 7 / 10);
        using var directory = new TempDirectory();
        var run = new RunPaths(directory);
        var input = NewInput(seed);
        Append(run.Input, input.Values);

        using (var first = TestWorkerProcess.Start(run.Arguments(follow: false)))
        using (var progress = new OutputProgress(run.Output))
        {
            await progress.WaitForAsync(killAt, first, Bound);
            await first.KillAsync(Bound);
        }

        output.WriteLine($"kill after {killAt:N0} output lines");
        var killed = Snapshot.Take(run, input, [run.Input]);
        using (var second = TestWorkerProcess.Start(run.Arguments(follow: false)))
        {
            var exitCode = await second.WaitForExitAsync(Bound);
            Assert.True(exitCode == 0, $"The restarted worker exited with {exitCode}; output:\n{second.Output}");
        }

        AssertCrashSafe(run, input, killed);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task FollowingWorker_KilledWhileTheFileGrowsAndRotates_EveryLineOnceOrInFlightAtTheKill(int seed)
    {
        // The writer keeps at most Lag lines ahead of the output, in chunks; it rotates the file twice. The kill comes near the first
        // rotation (a seed puts it before or after it), while the worker is down the writer appends DownLines more (a seed may rotate
        // there), and the sentinel line stops the restarted worker gracefully once every line is written.
        const int Chunk = 500;
        const int Lag = 3_000;
        const int DownLines = 2_000;
        var plan = SeededRandom(seed);
        var firstRotation = plan.Next(30_000, 40_000);
        var secondRotation = plan.Next(70_000, 80_000);
        var killAt = firstRotation + plan.Next(-5_000, 2_500);
        output.WriteLine($"rotations before lines {firstRotation:N0} and {secondRotation:N0}; kill after {killAt:N0} output lines");
        using var directory = new TempDirectory();
        var run = new RunPaths(directory);
        var input = NewInput(seed);
        var writer = new RotatingFileWriter(run.Input, input, [firstRotation, secondRotation]);
        writer.WriteUpTo(10_000);

        IReadOnlyList<string> filesAtKill;
        using (var first = TestWorkerProcess.Start(run.Arguments(follow: true)))
        using (var progress = new OutputProgress(run.Output))
        {
            while (true)
            {
                await progress.WaitForAsync(Math.Min(writer.Written - Lag, killAt), first, Bound);
                if (progress.Lines >= killAt)
                {
                    break;
                }

                writer.WriteUpTo(writer.Written + Chunk);
            }

            await first.KillAsync(Bound);
            filesAtKill = writer.Files;
        }

        var killed = Snapshot.Take(run, input, filesAtKill);
        writer.WriteUpTo(writer.Written + DownLines);
        using (var second = TestWorkerProcess.Start(run.Arguments(follow: true)))
        using (var progress = new OutputProgress(run.Output))
        {
            while (writer.Written < LineCount)
            {
                await progress.WaitForAsync(writer.Written - Lag, second, Bound);
                writer.WriteUpTo(writer.Written + Chunk);
            }

            writer.WriteSentinel(Sentinel);
            var exitCode = await second.WaitForExitAsync(Bound);
            Assert.True(exitCode == 0, $"The restarted worker exited with {exitCode}; output:\n{second.Output}");
        }

        output.WriteLine($"files at the kill: {string.Join(", ", filesAtKill.Select(Path.GetFileName))}; after: {string.Join(", ", writer.Files.Select(Path.GetFileName))}");
        AssertCrashSafe(run, input, killed);
    }

    /// <summary>A generator for <paramref name="seed"/>; the seed is mixed first (consecutive seeds give <see cref="Random"/> nearly equal first draws).</summary>
    private static Random SeededRandom(int seed)
    {
        var mixed = (ulong)seed * 0x9E3779B97F4A7C15UL;
        mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9UL;
        mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBUL;
        return new Random((int)((mixed ^ (mixed >> 31)) & int.MaxValue));
    }

    private static Dictionary<int, string> NewInput(int seed)
    {
        var random = SeededRandom(-seed);
        return Enumerable.Range(0, LineCount).ToDictionary(number => number, number => LineText(number, random));
    }

    private void AssertCrashSafe(RunPaths run, Dictionary<int, string> input, Snapshot killed)
    {
        // The checkpoint never passes a line that was not yet sunk or dead-lettered.
        var deliveredBeforeKill = killed.Output.Concat(killed.DeadLetters).ToHashSet();
        Assert.Equal(killed.Output.Count + killed.DeadLetters.Count, deliveredBeforeKill.Count);
        var passedUndelivered = killed.Checkpointed.Where(number => !deliveredBeforeKill.Contains(number)).Order().Take(5).ToList();
        Assert.True(passedUndelivered.Count == 0, $"The checkpoint passed lines neither sunk nor dead-lettered before the kill: {string.Join(", ", passedUndelivered)}.");

        // None lost: every line is in the output, or in the dead letters if it is rejected.
        var outputCounts = ReadOutput(run.Output, input).CountBy(number => number).ToDictionary();
        var deadLetterCounts = ReadDeadLetters(run.DeadLetters, input).CountBy(number => number).ToDictionary();
        var lost = input.Keys.Where(number => number % RejectDivisor == 0
            ? !deadLetterCounts.ContainsKey(number) || outputCounts.ContainsKey(number)
            : !outputCounts.ContainsKey(number) || deadLetterCounts.ContainsKey(number)).Order().Take(5).ToList();
        Assert.True(lost.Count == 0, $"Lines lost or in the wrong file: {string.Join(", ", lost)}.");

        // Duplicates only for lines delivered before the kill and not covered by the checkpoint, at most the in-flight bound.
        var duplicates = outputCounts.Concat(deadLetterCounts).Where(count => count.Value > 1).ToList();
        var duplicateCount = duplicates.Sum(count => count.Value - 1);
        var unexpected = duplicates.Where(count => count.Value > 2 || !deliveredBeforeKill.Contains(count.Key) || killed.Checkpointed.Contains(count.Key))
            .Select(count => count.Key).Order().Take(5).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"before the kill: {killed.Output.Count:N0} sunk, {killed.DeadLetters.Count:N0} dead-lettered, {killed.Checkpointed.Count:N0} checkpointed; duplicates after the restart: {duplicateCount:N0} (bound {InFlightBound:N0})"));
        Assert.True(unexpected.Count == 0, $"Duplicated lines that were not in flight at the kill: {string.Join(", ", unexpected)}.");
        Assert.True(duplicateCount <= InFlightBound, $"{duplicateCount:N0} duplicates, more than the in-flight bound of {InFlightBound:N0}.");
    }

    /// <summary>The files of one run, in a temporary directory, and the worker's command line over them.</summary>
    private sealed class RunPaths(TempDirectory directory)
    {
        public string Input { get; } = directory.File("input.log");

        public string Checkpoint { get; } = directory.File("input.checkpoint");

        public string Output { get; } = directory.File("output.txt");

        public string DeadLetters { get; } = directory.File("dead-letters.jsonl");

        public string Rotated(int generation) => Input + "." + generation.ToString(CultureInfo.InvariantCulture);

        public string[] Arguments(bool follow) =>
        [
            "file",
            $"--Crash:Source:Path={Input}",
            $"--Crash:Source:CheckpointPath={Checkpoint}",
            $"--Crash:Source:Follow={follow}",
            "--Crash:Source:PollInterval=00:00:00.050",
            $"--Crash:Output={Output}",
            $"--Crash:BatchSize={BatchSize}",
            $"--Crash:MaxPending={MaxPending}",
            $"--Pipelines:crash:DeadLetter:Path={DeadLetters}",
            $"--Pipelines:crash:Stages:parse:Parallelism={Parallelism}",
            $"--Pipelines:crash:Stages:parse:Handoff:Capacity={ParseCapacity}",
            $"--Pipelines:crash:Stages:batch:Handoff:Capacity={BatchCapacity}",
            $"--Pipelines:crash:Stages:append:Handoff:Capacity={AppendCapacity}",
        ];
    }

    /// <summary>What the killed worker left: its output, its dead letters and the lines its checkpoint covers.</summary>
    private sealed record Snapshot(List<int> Output, List<int> DeadLetters, HashSet<int> Checkpointed)
    {
        public static Snapshot Take(RunPaths run, Dictionary<int, string> input, IReadOnlyList<string> inputFilesOldestFirst)
            => new(ReadOutput(run.Output, input), ReadDeadLetters(run.DeadLetters, input), Acknowledged(run.Checkpoint, inputFilesOldestFirst));
    }
}
