using System.Diagnostics;

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
        // bin/<configuration>/<framework>/ of this test project, mirrored by the worker's project next to it.
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!;
        var tests = configuration.Parent!.Parent!.Parent!;
        var worker = Path.Combine(tests.FullName, "Pipeline.TestWorker", "bin", configuration.Name, framework.Name, "Pipeline.TestWorker.dll");
        Assert.True(File.Exists(worker), $"The test worker was not built at {worker}.");

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(worker);
        start.ArgumentList.Add(mode);
        using var process = Process.Start(start)!;
        var standardOutput = process.StandardOutput.ReadToEndAsync();
        var standardError = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await standardOutput + await standardError);
    }
}
