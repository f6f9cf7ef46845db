namespace Pipeline.Tests.Hosting;

/// <summary>A worker service's process exit code tells a supervisor (systemd, Kubernetes, CI) whether its pipeline faulted.</summary>
public class ExitCodeTests
{
    [Theory(Timeout = 120_000)]
    [InlineData("fault", PipelineHostedService.FaultedExitCode)]
    [InlineData("clean", 0)]
    public async Task WorkerProcess_RunAsync_ExitsNonZeroOnlyWhenThePipelineFaulted(string mode, int expectedExitCode)
    {
        var (exitCode, output) = await RunWorkerAsync(mode);

        Assert.True(expectedExitCode == exitCode, $"exit code {exitCode}, expected {expectedExitCode}; output:\n{output}");
    }

    private static async Task<(int ExitCode, string Output)> RunWorkerAsync(string mode)
    {
        using var worker = TestWorkerProcess.Start([mode]);
        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, worker.Output);
    }
}
