namespace Pipeline.Tests.Sources;

/// <summary>Counts the complete lines a worker has appended to its output file, reading only what was added since the last look.</summary>
internal sealed class OutputProgress(string path) : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private FileStream? _file;

    /// <summary>Gets how many complete lines were seen so far.</summary>
    public long Lines { get; private set; }

    /// <summary>
    /// Waits, looking at the file every few milliseconds, until it holds at least <paramref name="lines"/> complete lines. Fails when
    /// the worker exits first or <paramref name="timeout"/> passes (the worker made no progress: a hang or a livelock).
    /// </summary>
    public async Task WaitForAsync(long lines, TestWorkerProcess worker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Look() < lines)
        {
            Assert.False(worker.HasExited, $"The worker exited with {(worker.HasExited ? worker.ExitCode : 0)} after {Lines:N0} of {lines:N0} output lines; output:\n{worker.Output}");
            Assert.True(DateTime.UtcNow < deadline, $"The worker wrote {Lines:N0} of {lines:N0} output lines within {timeout}; output:\n{worker.Output}");
            await Task.Delay(2);
        }
    }

    public void Dispose() => _file?.Dispose();

    private long Look()
    {
        if (_file is null)
        {
            if (!File.Exists(path))
            {
                return 0;
            }

            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        }

        int read;
        while ((read = _file.Read(_buffer)) > 0)
        {
            Lines += _buffer.AsSpan(0, read).Count((byte)'\n');
        }

        return Lines;
    }
}
