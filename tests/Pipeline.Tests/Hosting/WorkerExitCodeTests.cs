namespace Pipeline.Tests.Hosting;

/// <summary>
/// A worker service's process exit code, as a supervisor (systemd, Kubernetes, a CI job) sees it: the test worker
/// (<c>tests/Pipeline.TestWorker</c>) ends with <c>await host.RunAsync()</c> and leaves the exit code to the engine.
/// </summary>
public class WorkerExitCodeTests
{
    [Theory(Timeout = 120_000)]
    [InlineData("fault", PipelineHostedService.FaultedExitCode)]
    [InlineData("clean", 0)]
    public async Task WorkerProcess_RunAsync_ExitsNonZeroOnlyWhenThePipelineFaulted(string mode, int expectedExitCode)
    {
        using var worker = TestWorkerProcess.Start([mode]);

        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(expectedExitCode == exitCode, $"exit code {exitCode}, expected {expectedExitCode}; output:\n{worker.Output}");
    }

    // The exit code of an aborted run was set by a continuation of the run's completion that could run after the host had
    // returned and the process had exited with 0 (2 of 5 runs of this shape): three runs, each of which must exit 3.
    [Fact(Timeout = 180_000)]
    public async Task WorkerProcess_StoppedWhileAStageCallNeverReturns_ExitsWithTheAbortedCode()
    {
        for (var round = 0; round < 3; round++)
        {
            using var worker = TestWorkerProcess.Start(["stuck"]);

            var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(50));

            Assert.True(exitCode == PipelineHostedService.AbortedExitCode, $"round {round}: exit code {exitCode}, expected {PipelineHostedService.AbortedExitCode}; output:\n{worker.Output}");
        }
    }
}
