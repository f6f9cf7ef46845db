using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public sealed class PrimitivesTourTests
{
    /// <summary>Every section of the tour, by the id it prints in its result line.</summary>
    private static readonly string[] s_sectionIds =
    [
        "counter",
        "reentrant",
        "semaphore",
        "bounded-semaphore",
        "event",
        "condition",
        "barrier",
        "queue",
    ];

    [Fact(Timeout = 120_000)]
    public async Task Run_BuiltTour_ExitsZeroAndReportsEveryCheckHeld()
    {
        var tourPath = Path.Combine(AppContext.BaseDirectory, "PrimitivesTour.dll");
        Assert.True(File.Exists(tourPath), $"PrimitivesTour.dll is missing next to the test assembly: {tourPath}");

        var (exitCode, output, errors) = await RunAsync(tourPath, TimeSpan.FromSeconds(90));

        var report = $"stdout:\n{output}\nstderr:\n{errors}";
        Assert.True(exitCode == 0, $"PrimitivesTour exited with {exitCode}.\n{report}");
        foreach (var id in s_sectionIds)
        {
            Assert.True(output.Contains($"check {id}: held", StringComparison.Ordinal), $"Section '{id}' did not report its check as held.\n{report}");
        }

        Assert.DoesNotContain("FAILED", output, StringComparison.Ordinal);
        Assert.Contains($"All {s_sectionIds.Length} checks passed.", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string tourPath, TimeSpan timeout)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        var startInfo = new ProcessStartInfo(string.IsNullOrEmpty(host) ? "dotnet" : host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        startInfo.ArgumentList.Add(tourPath);

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start the tour process.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"PrimitivesTour did not finish within {timeout.TotalSeconds} s.\nstdout so far:\n{await output}");
        }

        return (process.ExitCode, await output, await errors);
    }
}
