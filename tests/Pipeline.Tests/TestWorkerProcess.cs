using System.Diagnostics;
using System.Text;

namespace Pipeline.Tests;

/// <summary>
/// The test worker (<c>tests/Pipeline.TestWorker</c>) as a child process: started with arguments, its output collected, killed on
/// dispose if it still runs.
/// </summary>
internal sealed class TestWorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Task _standardOutput;
    private readonly Task _standardError;

    private TestWorkerProcess(Process process)
    {
        _process = process;
        _standardOutput = CollectAsync(process.StandardOutput);
        _standardError = CollectAsync(process.StandardError);
    }

    /// <summary>Gets the worker's path: bin/&lt;configuration&gt;/&lt;framework&gt;/ of this test project, mirrored by the worker's project next to it.</summary>
    public static string WorkerPath
    {
        get
        {
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = framework.Parent!;
            var tests = configuration.Parent!.Parent!.Parent!;
            return Path.Combine(tests.FullName, "Pipeline.TestWorker", "bin", configuration.Name, framework.Name, "Pipeline.TestWorker.dll");
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Gets what the worker wrote to standard output and error so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static TestWorkerProcess Start(IEnumerable<string> arguments)
    {
        var worker = WorkerPath;
        Assert.True(File.Exists(worker), $"The test worker was not built at {worker}.");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(worker);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new TestWorkerProcess(Process.Start(start)!);
    }

    /// <summary>Waits for the worker to exit; kills it and throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The worker did not exit within {timeout}; output:\n{Output}");
        }

        await Task.WhenAll(_standardOutput, _standardError).WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Kills the worker with SIGKILL (what <see cref="Process.Kill()"/> sends on Linux) and waits for it to be gone.</summary>
    public async Task KillAsync(TimeSpan timeout)
    {
        Assert.True(OperatingSystem.IsLinux(), "The crash tests rely on Process.Kill sending SIGKILL, as it does on Linux.");
        _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(timeout);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private async Task CollectAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
