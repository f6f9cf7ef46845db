namespace Pipeline;

/// <summary>Waits for a followed file to change without busy polling.</summary>
public sealed partial class FileSource
{
    /// <summary>
    /// A <see cref="FileSystemWatcher"/> on the file's directory, and a look every poll interval in case it is unavailable or misses
    /// a change. <see cref="Arm"/> before looking at the file, then <see cref="WaitAsync"/>: a change after the look is never missed.
    /// </summary>
    private sealed class ChangeWatch : IDisposable
    {
        private readonly FileSource _source;
        private readonly FileSystemWatcher? _watcher;

        /// <summary>Completed by the next change notification; replaced by <see cref="Arm"/>.</summary>
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ChangeWatch(FileSource source)
        {
            _source = source;
            try
            {
                var directory = System.IO.Path.GetDirectoryName(source._path)!;
                _watcher = new FileSystemWatcher(directory, System.IO.Path.GetFileName(source._path))
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                _watcher.Changed += OnChanged;
                _watcher.Created += OnChanged;
                _watcher.Deleted += OnChanged;
                _watcher.Renamed += OnChanged;
                _watcher.EnableRaisingEvents = true;
            }
            catch (Exception exception) when (exception is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
            {
                // No directory yet, no inotify watch left, or no watching on this platform: polling alone.
                source._logger.FileWatchUnavailable( source._path, source._pollInterval, exception);
                _watcher?.Dispose();
                _watcher = null;
            }
        }

        /// <summary>Returns the task that the next change completes; call before looking at the file.</summary>
        public Task Arm()
        {
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _changed, changed);
            return changed.Task;
        }

        /// <summary>Waits for <paramref name="changed"/> or one poll interval; returns <see langword="false"/> when stopped.</summary>
        public async ValueTask<bool> WaitAsync(Task changed, CancellationToken stoppingToken)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                return false;
            }

            using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var delay = Task.Delay(_source._pollInterval, _source._timeProvider, poll.Token);
            await Task.WhenAny(changed, delay).ConfigureAwait(false);
            await poll.CancelAsync().ConfigureAwait(false);
            return !stoppingToken.IsCancellationRequested;
        }

        public void Dispose() => _watcher?.Dispose();

        private void OnChanged(object sender, FileSystemEventArgs e) => Volatile.Read(ref _changed).TrySetResult();
    }
}
