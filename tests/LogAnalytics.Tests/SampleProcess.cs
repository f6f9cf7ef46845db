using System.Collections.Concurrent;
using System.Diagnostics;

namespace LogAnalytics.Tests;

/// <summary>
/// The built sample (<c>LogAnalytics.dll</c> beside the tests) in a process of its own, launched with <c>dotnet</c>: its standard output
/// and error collected line by line, a callback per output line, and killed with its children on dispose if still running.
/// </summary>
internal sealed class SampleProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleProcess(string name, string workingDirectory, IEnumerable<string> args, Action<string>? onOutputLine)
    {
        Name = name;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LogAnalytics.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                _outputClosed.TrySetResult();
                return;
            }

            _lines.Enqueue(line.Data);
            onOutputLine?.Invoke(line.Data);
        };
        _process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                _errorClosed.TrySetResult();
                return;
            }

            _lines.Enqueue("stderr: " + line.Data);
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Gets the name the test gave the process, for messages.</summary>
    public string Name { get; }

    /// <summary>Gets what the process printed so far, standard error lines prefixed with <c>stderr: </c>.</summary>
    public string Output => string.Join(Environment.NewLine, _lines);

    public bool HasExited => _process.HasExited;

    /// <summary>Gets a task that completes when the process has exited.</summary>
    public Task Exited => _process.WaitForExitAsync();

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>dotnet LogAnalytics.dll</c> with <paramref name="args"/>.</summary>
    /// <param name="name">A name for messages.</param>
    /// <param name="workingDirectory">The working directory.</param>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="onOutputLine">Called with each standard output line, on a thread of the process reader.</param>
    public static SampleProcess Start(string name, string workingDirectory, IEnumerable<string> args, Action<string>? onOutputLine = null) =>
        new(name, workingDirectory, args, onOutputLine);

    /// <summary>Waits until the process has exited and its output is read to the end; kills it and throws on timeout.</summary>
    /// <param name="timeout">The bound.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="TimeoutException">Thrown when it did not exit within <paramref name="timeout"/>; the message has its output.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Kill();
            throw new TimeoutException($"{Name} did not exit within {timeout}. Its output:{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the process (SIGKILL on Unix) and its children, if it is still running.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited in between.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
