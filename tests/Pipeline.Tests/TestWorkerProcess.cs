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

    /// <summary>Waits for the worker to report (a line <c>sunk N</c>) at least a number of output lines; completed by the reader of its output.</summary>
    private readonly List<(long Lines, TaskCompletionSource Reached)> _sunkWaiters = [];

    private long _sunk;

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

    /// <summary>Gets the most output lines the worker has reported (<c>sunk N</c> on its standard output).</summary>
    public long Sunk => Interlocked.Read(ref _sunk);

    /// <summary>
    /// Completes once the worker reports at least <paramref name="lines"/> output lines; fails when its output ends first (it
    /// exited) or after <paramref name="timeout"/> (no progress: a hang or a livelock).
    /// </summary>
    public async Task WaitForSunkAsync(long lines, TimeSpan timeout)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sunkWaiters)
        {
            if (_sunk >= lines)
            {
                return;
            }

            _sunkWaiters.Add((lines, reached));
        }

        Task first;
        try
        {
            first = await Task.WhenAny(reached.Task, _standardOutput).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The worker wrote {Sunk:N0} of {lines:N0} output lines within {timeout}; output:\n{Output}");
            throw;
        }

        Assert.True(first == reached.Task || reached.Task.IsCompleted, $"The worker exited after {Sunk:N0} of {lines:N0} output lines; output:\n{Output}");
    }

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

        // The worker sets its own pool limits; a limit forced on this process (DOTNET_ThreadPool_Force*) would override them.
        start.Environment.Remove("DOTNET_ThreadPool_ForceMinWorkerThreads");
        start.Environment.Remove("DOTNET_ThreadPool_ForceMaxWorkerThreads");
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
            if (line.StartsWith("sunk ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture, out var sunk))
            {
                lock (_sunkWaiters)
                {
                    _sunk = Math.Max(_sunk, sunk);
                    foreach (var waiter in _sunkWaiters.Where(waiter => waiter.Lines <= sunk).ToArray())
                    {
                        _sunkWaiters.Remove(waiter);
                        waiter.Reached.TrySetResult();
                    }
                }

                continue;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
