using System.Globalization;
using Xunit.Abstractions;
using static Pipeline.Tests.Sources.CrashRunFiles;

namespace Pipeline.Tests.Sources;

/// <summary>
/// One crash run of the test worker's <c>file</c> mode: its files in a temporary directory, the worker's shape and command line, and
/// the checks that hold after a SIGKILL and a restart.
/// </summary>
internal sealed class CrashRun(TempDirectory directory)
{
    public const int LineCount = 100_000;

    // The worker's shape: read → [ParseCapacity] → parse ×Parallelism → [BatchCapacity] → batch of BatchSize → [AppendCapacity batches] → append.
    public const int ParseCapacity = 256;
    public const int Parallelism = 4;
    public const int BatchCapacity = 256;
    public const int BatchSize = 64;
    public const int AppendCapacity = 8;

    /// <summary>
    /// The most items the worker can hold between the source and the end of the sink: the one the source has read and not yet handed
    /// on, the parse handoff, one per parse worker, the batch handoff, the batch being formed, the append handoff's batches and the
    /// batch being appended: 1 + ParseCapacity + Parallelism + BatchCapacity + BatchSize + AppendCapacity × BatchSize + BatchSize
    /// = 1 + 256 + 4 + 256 + 64 + 8 × 64 + 64 = 1,157.
    /// </summary>
    public const int InFlightBound = 1 + ParseCapacity + Parallelism + BatchCapacity + BatchSize + (AppendCapacity * BatchSize) + BatchSize;

    /// <summary>
    /// How far the source may run ahead of its last acknowledgement (<see cref="AcknowledgementSettings.MaxPending"/>): the largest
    /// power of two within the in-flight bound, so that lines accounted for and not yet acknowledged add nothing to the bound.
    /// </summary>
    public const int MaxPending = 1_024;

    /// <summary>The bound on every wait: a hang fails the test instead of the run.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public string Input { get; } = directory.File("input.log");

    public string Checkpoint { get; } = directory.File("input.checkpoint");

    public string Output { get; } = directory.File("output.txt");

    public string DeadLetters { get; } = directory.File("dead-letters.jsonl");

    /// <summary>The worker's command line.</summary>
    /// <param name="follow">Whether the source follows the file.</param>
    /// <param name="holdAfterLines">Once the output holds at least this many lines, the sink stops (until killed); <see langword="null"/> for never.</param>
    public string[] Arguments(bool follow, long? holdAfterLines = null) =>
    [
        "file",
        $"--Crash:HoldAfterLines={holdAfterLines ?? long.MaxValue}",
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

    /// <summary>A generator for <paramref name="seed"/>; the seed is mixed first (consecutive seeds give <see cref="Random"/> nearly equal first draws).</summary>
    public static Random SeededRandom(int seed)
    {
        var mixed = (ulong)seed * 0x9E3779B97F4A7C15UL;
        mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9UL;
        mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBUL;
        return new Random((int)((mixed ^ (mixed >> 31)) & int.MaxValue));
    }

    public static Dictionary<int, string> NewInput(int seed)
    {
        var random = SeededRandom(-seed);
        return Enumerable.Range(0, LineCount).ToDictionary(number => number, number => LineText(number, random));
    }

    /// <summary>Checks what the killed worker left (<paramref name="killed"/>) and the files after the restart finished.</summary>
    public void AssertCrashSafe(Dictionary<int, string> input, Snapshot killed, ITestOutputHelper output)
    {
        // The checkpoint never passes a line that was not yet sunk or dead-lettered.
        var deliveredBeforeKill = killed.Output.Concat(killed.DeadLetters).ToHashSet();
        Assert.Equal(killed.Output.Count + killed.DeadLetters.Count, deliveredBeforeKill.Count);
        var passedUndelivered = killed.Checkpointed.Where(number => !deliveredBeforeKill.Contains(number)).Order().Take(5).ToList();
        Assert.True(passedUndelivered.Count == 0, $"The checkpoint passed lines neither sunk nor dead-lettered before the kill: {string.Join(", ", passedUndelivered)}.");

        // None lost: every line is in the output, or in the dead letters if it is rejected.
        var outputCounts = ReadOutput(Output, input).CountBy(number => number).ToDictionary();
        var deadLetterCounts = ReadDeadLetters(DeadLetters, input).CountBy(number => number).ToDictionary();
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

    /// <summary>What the killed worker left: its output, its dead letters and the lines its checkpoint covers.</summary>
    internal sealed record Snapshot(List<int> Output, List<int> DeadLetters, HashSet<int> Checkpointed)
    {
        public static Snapshot Take(CrashRun run, Dictionary<int, string> input, IReadOnlyList<string> inputFilesOldestFirst)
            => new(ReadOutput(run.Output, input), ReadDeadLetters(run.DeadLetters, input), Acknowledged(run.Checkpoint, inputFilesOldestFirst));
    }
}
