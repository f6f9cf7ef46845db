using static Pipeline.Tests.Sources.CrashRun;
using static Pipeline.Tests.Sources.CrashRunFiles;
using Xunit.Abstractions;

namespace Pipeline.Tests.Sources;

/// <summary>
/// As <see cref="FileSourceCrashTests"/>, with <see cref="FileSourceOptions.Follow"/>: a writer appends lines while the worker runs
/// and rotates the file (rename, then a new file at the path), the kill lands near a rotation, and the restart finishes the rotated
/// file before the new one.
/// </summary>
[Collection(nameof(CrashTestCollection))]
public sealed class FileSourceCrashFollowTests(ITestOutputHelper output)
{
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
        var run = new CrashRun(directory);
        var input = NewInput(seed);
        var writer = new RotatingFileWriter(run.Input, input, [firstRotation, secondRotation]);
        writer.WriteUpTo(10_000);

        IReadOnlyList<string> filesAtKill;
        using (var first = TestWorkerProcess.Start(run.Arguments(follow: true, holdAfterLines: killAt)))
        {
            while (true)
            {
                await first.WaitForSunkAsync(Math.Min(writer.Written - Lag, killAt), Bound);
                if (first.Sunk >= killAt)
                {
                    break;
                }

                writer.WriteUpTo(writer.Written + Chunk);
            }

            await first.KillAsync(Bound);
            filesAtKill = writer.Files;
        }

        var killed = CrashRun.Snapshot.Take(run, input, filesAtKill);
        writer.WriteUpTo(writer.Written + DownLines);
        using (var second = TestWorkerProcess.Start(run.Arguments(follow: true)))
        {
            while (writer.Written < LineCount)
            {
                await second.WaitForSunkAsync(writer.Written - Lag, Bound);
                writer.WriteUpTo(writer.Written + Chunk);
            }

            writer.WriteSentinel(Sentinel);
            var exitCode = await second.WaitForExitAsync(Bound);
            Assert.True(exitCode == 0, $"The restarted worker exited with {exitCode}; output:\n{second.Output}");
        }

        output.WriteLine($"files at the kill: {string.Join(", ", filesAtKill.Select(Path.GetFileName))}; after: {string.Join(", ", writer.Files.Select(Path.GetFileName))}");
        run.AssertCrashSafe(input, killed, output);
    }
}
