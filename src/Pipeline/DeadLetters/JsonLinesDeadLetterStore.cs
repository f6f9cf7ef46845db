using System.Diagnostics;

namespace Pipeline;

/// <summary>
/// Appends each dead letter to a file as one JSON object per line (<c>timestamp</c> in UTC, <c>pipeline</c>, <c>stage</c>,
/// <c>reason</c>, <c>error</c> = exception type, <c>message</c>, <c>attempts</c>, <c>item</c>), written before
/// <see cref="WriteAsync"/> returns. Read the file back with <see cref="DeadLetterFileReader"/> or replay it with
/// <see cref="DeadLetterSource{T}"/>.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe. Concurrent writers are committed together (group commit): the first writer writes every line queued so far in one
/// write and one flush (and one <c>fsync</c> with <see cref="DeadLetterDurability.Fsync"/>); the others wait for the group that holds
/// their line. No call returns before its own line is written. A write is not cancelled once called: a half-written dead letter
/// would be lost unseen.
/// </para>
/// <para>
/// Runs append to the same file, and so may the stores of other pipelines and other processes at the same time: each group is
/// written at the file's end under an exclusive lock on a sidecar file, <c>&lt;path&gt;.lock</c> (see <c>flock</c>), so lines never
/// overwrite or interleave. The lock is advisory and keyed by the path's text: the directory must be writable (for the lock file),
/// writers must name the file by the same path, and where .NET takes no file locks (some network file systems, or
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> set) give each writer a file of its own. A new file (and its directory, and the lock file) is created readable and writable by its owner only
/// (mode 0600 on Unix), as dead letters hold users' data. When a crash left a torn last line, the next group starts on a new line,
/// so the reader skips only the torn fragment.
/// </para>
/// </remarks>
public sealed class JsonLinesDeadLetterStore : IDeadLetterStore, IAsyncDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _path;
    private readonly DeadLetterDurability _durability;
    private readonly DeadLetterLineFormatter _formatter;

    /// <summary>Guards the fields below.</summary>
    private readonly object _sync = new();

    /// <summary>Lines waiting for the next group commit.</summary>
    private List<byte[]> _pending = [];

    /// <summary>Lines being written by the committing writer; swapped with <see cref="_pending"/> each round, so both lists are reused.</summary>
    private List<byte[]> _committing = [];

    /// <summary>Completes when the lines now in <see cref="_pending"/> are written (or faults with the write's exception).</summary>
    private TaskCompletionSource _pendingGroup = NewGroup();

    /// <summary>True while one writer commits groups; the others only queue their lines.</summary>
    private bool _committingNow;

    /// <summary>Set once <see cref="DisposeAsync"/> has been called.</summary>
    private bool _disposed;

    /// <summary>The open file; <see langword="null"/> until the first write.</summary>
    private FileStream? _file;

    /// <summary>Initializes a store that appends to <see cref="DeadLetterSettings.Path"/>.</summary>
    /// <param name="settings">The path, the durability and the serialization settings; read once, here.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="settings"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <see cref="DeadLetterSettings.Path"/> is null or blank, or <see cref="DeadLetterSettings.Durability"/> is not defined.</exception>
    public JsonLinesDeadLetterStore(DeadLetterSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (string.IsNullOrWhiteSpace(settings.Path))
        {
            throw new ArgumentException($"DeadLetter:Path must be a file path, was '{settings.Path}'", nameof(settings));
        }

        if (!Enum.IsDefined(settings.Durability))
        {
            throw new ArgumentException(
                $"DeadLetter:Durability must be one of {string.Join(", ", Enum.GetNames<DeadLetterDurability>())}, was '{settings.Durability}'", nameof(settings));
        }

        _path = System.IO.Path.GetFullPath(settings.Path);
        _durability = settings.Durability;
        _formatter = new DeadLetterLineFormatter(settings.SerializerOptions, settings.ItemTypes);
    }

    /// <summary>Gets the full path of the file.</summary>
    public string Path => _path;

    /// <summary>Appends <paramref name="deadLetter"/> as one line; returns once the line is written to the file (and synced, with <see cref="DeadLetterDurability.Fsync"/>).</summary>
    /// <param name="deadLetter">The dead letter.</param>
    /// <param name="cancellationToken">Not observed: once called, the dead letter is written.</param>
    /// <returns>A task that completes when the line is written.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="deadLetter"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">Thrown when the store has been disposed.</exception>
    /// <exception cref="IOException">Thrown when the file cannot be opened or written; every line of the failed group gets it.</exception>
    /// <exception cref="UnauthorizedAccessException">Thrown when the file or its directory cannot be opened for writing.</exception>
    public async ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        var line = _formatter.Format(deadLetter);
        Task written;
        bool commit;
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _pending.Add(line);
            written = _pendingGroup.Task;
            commit = !_committingNow;
            _committingNow = true;
        }

        if (commit)
        {
            await CommitGroupsAsync().ConfigureAwait(false);
        }

        await written.ConfigureAwait(false);
    }

    /// <summary>Waits for queued lines to be written, then closes the file.</summary>
    /// <returns>A task that completes when the file is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Task? drained;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            drained = _committingNow ? _pendingGroup.Task : null;
        }

        if (drained is not null)
        {
            try
            {
                await drained.ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The writers of that group received the exception; closing goes on.
            }
        }

        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource NewGroup() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Writes queued groups until none is left; only the writer that set <see cref="_committingNow"/> runs it.</summary>
    private async Task CommitGroupsAsync()
    {
        while (true)
        {
            TaskCompletionSource? group = null;
            TaskCompletionSource? idle = null;
            lock (_sync)
            {
                Debug.Assert(_committingNow, "Only the committing writer commits.");
                if (_pending.Count == 0)
                {
                    // Nothing left: the waiting group holds no line, and only DisposeAsync may be waiting on it. Completed, and
                    // replaced for the next writer, so that a dispose during the last commit returns.
                    _committingNow = false;
                    idle = _pendingGroup;
                    _pendingGroup = NewGroup();
                }

                else
                {
                    (_pending, _committing) = (_committing, _pending);
                    group = _pendingGroup;
                    _pendingGroup = NewGroup();
                }
            }

            if (group is null)
            {
                idle!.SetResult();
                return;
            }

            try
            {
                await WriteLinesAsync(_committing).ConfigureAwait(false);
                group.SetResult();
            }
#pragma warning disable CA1031 // Every writer of the group receives the exception; none is swallowed.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                group.SetException(exception);
            }
            finally
            {
                _committing.Clear();
            }
        }
    }

    private async Task WriteLinesAsync(List<byte[]> lines)
    {
        var file = _file ??= Open();
        var length = 1;
        foreach (var line in lines)
        {
            length += line.Length;
        }

        // One write per group, at the file's end as it is under the lock: other stores and processes may append to the same file,
        // and the lines land together, so no reader sees half a group. Room for a newline first, when the file ends in a torn line.
        var buffer = new byte[length];
        var offset = 1;
        foreach (var line in lines)
        {
            line.CopyTo(buffer, offset);
            offset += line.Length;
        }

        var appendLock = await AppendLock.AcquireAsync(_path).ConfigureAwait(false);
        await using (appendLock.ConfigureAwait(false))
        {
            var end = RandomAccess.GetLength(file.SafeFileHandle);
            var start = 1;
            if (EndsWithTornLine(file, end))
            {
                buffer[0] = (byte)'\n';
                start = 0;
            }

            file.Position = end;
            await file.WriteAsync(buffer.AsMemory(start)).ConfigureAwait(false);

            // The stream is unbuffered, so the bytes are with the operating system now; Flush(true) also syncs them to the device.
            if (_durability == DeadLetterDurability.Fsync)
            {
                file.Flush(flushToDisk: true);
            }
        }
    }

    private FileStream Open()
    {
        var directory = System.IO.Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, OwnerOnly | UnixFileMode.UserExecute);
            }
        }

        // Not FileMode.Append: each group is written at the end the file has under the append lock, which other writers move.
        return new FileStream(_path, AppendLock.OpenOrCreateOwnerOnly(FileShare.ReadWrite));
    }

    /// <summary>Returns whether the file's last byte, before <paramref name="end"/>, is not a newline: a crash tore its last line.</summary>
    private static bool EndsWithTornLine(FileStream file, long end)
    {
        if (end == 0)
        {
            return false;
        }

        Span<byte> last = stackalloc byte[1];
        return RandomAccess.Read(file.SafeFileHandle, last, end - 1) == 1 && last[0] != (byte)'\n';
    }
}
