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
}
