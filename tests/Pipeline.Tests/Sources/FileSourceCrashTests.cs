using static Pipeline.Tests.Sources.CrashRun;
using static Pipeline.Tests.Sources.CrashRunFiles;
using Xunit.Abstractions;

namespace Pipeline.Tests.Sources;

/// <summary>
/// A worker service with a <see cref="FileSource"/> (the test worker's <c>file</c> mode) is killed with SIGKILL at a moment chosen by
/// a seed, restarted on the same files, and let finish: every input line is then in the output or the dead-letter file, and the
/// only duplicates are lines delivered before the kill that the checkpoint did not cover yet, never more than the in-flight bound.
/// </summary>
[Collection(nameof(CrashTestCollection))]
public sealed class FileSourceCrashTests(ITestOutputHelper output)
{
    [Theory(Timeout = 60_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Worker_KilledAndRestarted_EveryLineOnceOrInFlightAtTheKill(int seed)
    {
        var plan = SeededRandom(seed);
        var killAt = plan.Next(LineCount / 10, LineCount * 6 / 10);
        using var directory = new TempDirectory();
        var run = new CrashRun(directory);
        var input = NewInput(seed);
        Append(run.Input, input.Values);

        // The first run's sink holds once the output has killAt lines (its handoffs fill behind it): the kill lands there however
        // slow the machine is. The restart runs to the end.
        using (var first = TestWorkerProcess.Start(run.Arguments(follow: false, holdAfterLines: killAt)))
        {
            await first.WaitForSunkAsync(killAt, Bound);
            await first.KillAsync(Bound);
        }

        output.WriteLine($"kill after {killAt:N0} output lines");
        var killed = CrashRun.Snapshot.Take(run, input, [run.Input]);
        using (var second = TestWorkerProcess.Start(run.Arguments(follow: false)))
        {
            var exitCode = await second.WaitForExitAsync(Bound);
            Assert.True(exitCode == 0, $"The restarted worker exited with {exitCode}; output:\n{second.Output}");
        }

        run.AssertCrashSafe(input, killed, output);
    }
}
