using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace Pipeline;

/// <summary>
/// The lines of a UTF-8 text file as an acknowledging source: each line's position is the byte offset after it, the acknowledged
/// offset is kept in a checkpoint file, and a restart resumes after it. With <see cref="FileSourceOptions.Follow"/> it keeps reading
/// appended lines like <c>tail -F</c>.
/// </summary>
/// <remarks>
/// <para>
/// Lines end with <c>\n</c> or <c>\r\n</c>, neither part of <see cref="FileLine.Text"/>; a UTF-8 byte order mark at the start of the
/// file is skipped. A last line without its line break is held back until the break arrives, or until the file is final: the end of
/// the file when not following, a rotation when following.
/// </para>
/// <para>
/// <b>Positions.</b> Within one file, <see cref="PositionedItem{T}.Position"/> is <see cref="FileLine.EndOffset"/>. After a rotation
/// or a truncation the file offsets start again at 0, while positions keep increasing: they continue from the bytes read before.
/// </para>
/// <para>
/// <b>Checkpoint.</b> <see cref="AcknowledgeAsync"/> writes the acknowledged file offset, with a fingerprint of the file (the hash of
/// its first 256 bytes), to a temporary file, syncs it and renames it over the checkpoint: a crash leaves the old checkpoint or the
/// new one. At start, the checkpoint applies only if the file still starts with the same bytes and is at least that long; otherwise
/// the file is read from its start (with a warning). A rotated file whose first 256 bytes equal the old one's cannot be told apart.
/// </para>
/// <para>
/// <b>Rotated while down.</b> When the checkpoint does not apply to the file at the path, the files beside it whose names start with
/// its name (<c>access.log.1</c>, <c>access.log-20260101</c>; not compressed ones) are searched for the one it does apply to: that
/// file is read from the checkpoint to its end (its last line even without a line break), then the file at the path from its start.
/// So a crash or stop shortly before a rotation, or a rotation while the worker is down, loses no line. Only one rotation is
/// recovered: the lines of a file rotated between two rotations that both happened after the checkpoint are not read.
/// </para>
/// <para>
/// <b>Following.</b> Changes are noticed with a <see cref="FileSystemWatcher"/> on the file's directory, and by looking again every
/// <see cref="FileSourceOptions.PollInterval"/> (the fallback when watching is unavailable). Rotation is noticed when the path names
/// a file that is shorter than the one being read or starts with other bytes. The old file is read until it has had no new bytes
/// for a poll interval, since its writer may go on appending to it until it reopens the path (nginx between logrotate's rename and
/// its <c>USR1</c>); then the new file from its start. Truncation (the file shorter than the offset read, or its head rewritten)
/// restarts at its start: with logrotate's <c>copytruncate</c>, lines not yet read when the file was truncated are only in the copy,
/// which the source does not read (as with <c>tail -F</c>); rotate by renaming (logrotate's default) where that matters. A file
/// replaced by one that is longer and starts with the same bytes (an <c>rsync</c> without <c>--inplace</c>) is not noticed until
/// a restart.
/// </para>
/// <para>
/// Thread-safety: one enumeration at a time; <see cref="AcknowledgeAsync"/> may be called from another thread while it runs, and
/// after it ended, never concurrently with itself.
/// </para>
/// </remarks>
public sealed partial class FileSource : IAcknowledgingSource<FileLine>
{
    private readonly string _path;
    private readonly string _checkpointPath;
    private readonly bool _follow;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;

    /// <summary>Guards <see cref="_segments"/> and the handles they hold.</summary>
    private readonly Lock _segmentsLock = new();

    /// <summary>The files (or truncation generations of one file) read so far, oldest first, that acknowledgements may still refer to.</summary>
    private readonly List<Segment> _segments = [];

    /// <summary>Initializes a source over <see cref="FileSourceOptions.Path"/>.</summary>
    /// <param name="options">The settings; read once, here.</param>
    /// <param name="logger">Receives rotation, truncation and checkpoint warnings; <see langword="null"/> for none.</param>
    /// <param name="timeProvider">The clock of the polling fallback; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="OptionsValidationException">Thrown when <paramref name="options"/> are invalid; the message names each key (<c>FileSource:PollInterval</c>…), its value and what is allowed.</exception>
    public FileSource(FileSourceOptions options, ILogger<FileSource>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = new FileSourceOptionsValidator("FileSource").Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(FileSourceOptions), validation.Failures);
        }

        _path = System.IO.Path.GetFullPath(options.Path!);
        _checkpointPath = System.IO.Path.GetFullPath(options.ResolvedCheckpointPath);
        _follow = options.Follow;
        _pollInterval = options.PollInterval;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the full path of the file read.</summary>
    public string Path => _path;

    /// <summary>Gets the full path of the checkpoint file.</summary>
    public string CheckpointPath => _checkpointPath;

    /// <summary>
    /// Gets the full path of the rotated file the current enumeration began with, because the checkpoint belonged to it (see the
    /// remarks, "Rotated while down"); <see langword="null"/> when it began with the file at <see cref="Path"/>.
    /// </summary>
    /// <value>Set before the enumeration yields its first line, and kept until the next enumeration starts. Lines of that file come
    /// first and have the smallest positions; the lines after them are the file at <see cref="Path"/>'s.</value>
    public string? ResumedRotatedPath { get; private set; }

    /// <summary>Runs between writing the temporary checkpoint and renaming it; a test simulates a crash there.</summary>
    internal Action<string>? BeforeCheckpointRename { get; set; }

    /// <summary>Returns the file's lines from the checkpoint on (or from the start), each with its position.</summary>
    /// <param name="stoppingToken">Ends the sequence when cancelled (at the next line boundary or wait).</param>
    /// <returns>The lines, positions strictly increasing.</returns>
    /// <exception cref="FileNotFoundException">Thrown, when enumerated without <see cref="FileSourceOptions.Follow"/>, if the file does not exist (with it, the source waits for the file).</exception>
    public IAsyncEnumerable<PositionedItem<FileLine>> ReadAsync(CancellationToken stoppingToken) => ReadLinesAsync(stoppingToken);

    /// <summary>Records that every line at or before <paramref name="position"/> is accounted for: replaces the checkpoint atomically.</summary>
    /// <param name="position">The position of a line this source yielded.</param>
    /// <param name="cancellationToken">Not observed: the write is short and must not be left half-done.</param>
    /// <returns>A task that completes when the checkpoint is replaced.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="position"/> lies before every file this source still tracks.</exception>
    /// <exception cref="IOException">Thrown when the checkpoint cannot be written; the previous one stays.</exception>
    public ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken)
    {
        FileCheckpoint checkpoint;
        lock (_segmentsLock)
        {
            var index = _segments.FindLastIndex(segment => segment.Base < position);
            if (index < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(position), position, "The position lies before every file this source still tracks.");
            }

            var segment = _segments[index];
            var offset = position - segment.Base;
            var prefixLength = (int)Math.Min(offset, FileCheckpoint.MaxPrefixLength);
            var prefix = segment.File is { } file ? FileCheckpoint.ReadPrefix(file, prefixLength) : segment.FrozenPrefix;
            checkpoint = prefix is not null && prefix.Length >= prefixLength
                ? new FileCheckpoint(offset, prefixLength, FileCheckpoint.Hash(prefix.AsSpan(0, prefixLength)), _path)
                : new FileCheckpoint(offset, prefixLength, NoFingerprint, _path);

            // Acknowledgements only move forward: older files are no longer needed.
            _segments.RemoveRange(0, index);
        }

        checkpoint.Write(_checkpointPath, BeforeCheckpointRename);
        return default;
    }

    /// <summary>The fingerprint of a file whose content is gone (truncated); matches no file, so a restart reads from the start.</summary>
    private const string NoFingerprint = "none";

    /// <summary>Starts a new segment at <paramref name="base"/>; the previous one keeps only <paramref name="previousPrefix"/>.</summary>
    private Segment StartSegment(long @base, SafeFileHandle file, byte[]? previousPrefix)
    {
        var segment = new Segment(@base) { File = file };
        lock (_segmentsLock)
        {
            if (_segments.Count > 0)
            {
                _segments[^1].File = null;
                _segments[^1].FrozenPrefix = previousPrefix;
            }

            _segments.Add(segment);
        }

        return segment;
    }

    /// <summary>Keeps the current segment's fingerprint and lets go of its handle (the enumeration ended; final acknowledgements follow).</summary>
    private void FreezeSegment(Segment segment)
    {
        lock (_segmentsLock)
        {
            if (segment.File is { } file)
            {
                segment.FrozenPrefix = FileCheckpoint.ReadPrefix(file, FileCheckpoint.MaxPrefixLength);
                segment.File = null;
            }
        }
    }

    /// <summary>The lines of one file, or of one file between truncations: positions are <see cref="Base"/> plus the file offset.</summary>
    private sealed class Segment(long @base)
    {
        public long Base { get; } = @base;

        /// <summary>The open file while it is read; <see langword="null"/> after.</summary>
        public SafeFileHandle? File { get; set; }

        /// <summary>The file's first bytes, kept when it is let go; <see langword="null"/> when its content is gone (truncated).</summary>
        public byte[]? FrozenPrefix { get; set; }
    }
}
