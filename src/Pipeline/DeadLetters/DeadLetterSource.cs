using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pipeline;

/// <summary>
/// Replays a dead-letter file written by <see cref="JsonLinesDeadLetterStore"/>: its items come back as <typeparamref name="T"/>, in
/// file order, marked <see cref="PositionedItem{T}.IsReplay"/>, with a checkpoint of their own so that a replay resumes where it
/// stopped and a line acknowledged once is never replayed again.
/// </summary>
/// <typeparam name="T">The item type, as the stage that gave the items up saw it.</typeparam>
/// <remarks>
/// <para>
/// An item's position is the byte offset after its line. A replay reads the lines that exist when it starts: items that fail again
/// and are appended to the same file are left for the next replay rather than looped over. Lines torn by a crash are skipped with a
/// warning (see <see cref="DeadLetterFileReader"/>).
/// </para>
/// <para>
/// The checkpoint (default: the file's path followed by <c>.replay-checkpoint</c>) holds the acknowledged offset and a fingerprint
/// of the file's first bytes; it is replaced by atomic write-and-rename on each <see cref="AcknowledgeAsync"/>. Delivery is at least
/// once: items replayed but not yet acknowledged when the process dies are replayed again.
/// </para>
/// <para>Thread-safety: one enumeration at a time; <see cref="AcknowledgeAsync"/> from any thread, never concurrently with itself.</para>
/// </remarks>
public sealed class DeadLetterSource<T> : IAcknowledgingSource<T>
{
    private readonly JsonTypeInfo<T> _itemTypeInfo;
    private readonly ILogger _logger;

    /// <summary>Initializes a replay of the dead-letter file at <paramref name="path"/>.</summary>
    /// <param name="path">The dead-letter file.</param>
    /// <param name="itemTypeInfo">Deserializes the items (trimming and AOT safe); for reflection-based options use <c>(JsonTypeInfo&lt;T&gt;)options.GetTypeInfo(typeof(T))</c>.</param>
    /// <param name="checkpointPath">The replay's checkpoint file; <see langword="null"/> for <paramref name="path"/> followed by <c>.replay-checkpoint</c>.</param>
    /// <param name="logger">Receives warnings for skipped lines and checkpoints that do not apply; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="path"/> or <paramref name="itemTypeInfo"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="path"/> or <paramref name="checkpointPath"/> is blank, or both name the same file.</exception>
    public DeadLetterSource(string path, JsonTypeInfo<T> itemTypeInfo, string? checkpointPath = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(itemTypeInfo);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (checkpointPath is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        }

        Path = System.IO.Path.GetFullPath(path);
        CheckpointPath = System.IO.Path.GetFullPath(checkpointPath ?? path + ".replay-checkpoint");
        if (string.Equals(Path, CheckpointPath, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The checkpoint must be another file than the dead-letter file, was '{checkpointPath}'", nameof(checkpointPath));
        }

        _itemTypeInfo = itemTypeInfo;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the full path of the dead-letter file.</summary>
    public string Path { get; }

    /// <summary>Gets the full path of the replay's checkpoint file.</summary>
    public string CheckpointPath { get; }

    /// <summary>
    /// Gets the stages whose dead letters are replayed (their items are <typeparamref name="T"/>); lines of other stages, whose items
    /// have other types, are passed over unread (and the checkpoint moves past them). Compared by ordinal.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: every line is replayed, and one whose item is not a <typeparamref name="T"/> fails the replay.</value>
    public IReadOnlyCollection<string>? Stages { get; init; }

    /// <summary>Runs between writing the temporary checkpoint and renaming it; a test simulates a crash there.</summary>
    internal Action<string>? BeforeCheckpointRename { get; set; }

    /// <summary>Returns the items of the lines after the checkpoint that exist now, each marked as a replay.</summary>
    /// <param name="stoppingToken">Ends the sequence when cancelled.</param>
    /// <returns>The items, in file order, positions strictly increasing.</returns>
    /// <exception cref="FileNotFoundException">Thrown, when enumerated, if the dead-letter file does not exist.</exception>
    /// <exception cref="InvalidDataException">Thrown, when enumerated, for a line (of one of <see cref="Stages"/>, when set) whose item cannot be read as <typeparamref name="T"/>.</exception>
    public IAsyncEnumerable<PositionedItem<T>> ReadAsync(CancellationToken stoppingToken) => ReplayAsync(stoppingToken);

    /// <summary>Records that every item at or before <paramref name="position"/> is accounted for: replaces the checkpoint atomically.</summary>
    /// <param name="position">The position of an item this source yielded.</param>
    /// <param name="cancellationToken">Not observed: the write is short and must not be left half-done.</param>
    /// <returns>A task that completes when the checkpoint is replaced.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="position"/> is not positive.</exception>
    /// <exception cref="IOException">Thrown when the dead-letter file cannot be read or the checkpoint cannot be written; the previous checkpoint stays.</exception>
    public ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(position);
        var prefixLength = (int)Math.Min(position, FileCheckpoint.MaxPrefixLength);
        byte[] prefix;
        using (var file = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            prefix = FileCheckpoint.ReadPrefix(file, prefixLength);
        }

        new FileCheckpoint(position, prefixLength, FileCheckpoint.Hash(prefix), Path).Write(CheckpointPath, BeforeCheckpointRename);
        return default;
    }

    private async IAsyncEnumerable<PositionedItem<T>> ReplayAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        long start;
        long end;
        using (var file = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            end = RandomAccess.GetLength(file);
            start = ResolveStart(file, end);
        }

        await foreach (var entry in DeadLetterFileReader.ReadRangeAsync(Path, start, end, _itemTypeInfo, _logger, CancellationToken.None, Stages).ConfigureAwait(false))
        {
            yield return new PositionedItem<T>(entry.Item!, entry.EndOffset, isReplay: true);
            if (stoppingToken.IsCancellationRequested)
            {
                yield break;
            }
        }
    }

    private long ResolveStart(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length)
    {
        FileCheckpoint? checkpoint;
        try
        {
            checkpoint = FileCheckpoint.Read(CheckpointPath);
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            _logger.CheckpointUnreadable(Path, CheckpointPath, exception);
            return 0;
        }

        if (checkpoint is null)
        {
            return 0;
        }

        if (!checkpoint.IsFor(Path))
        {
            _logger.CheckpointOfOtherFile(Path, CheckpointPath, checkpoint.Source!);
            return 0;
        }

        if (checkpoint.Offset > 0 && checkpoint.Offset <= length && checkpoint.Matches(file))
        {
            return checkpoint.Offset;
        }

        _logger.CheckpointNotApplicable(Path, CheckpointPath, checkpoint.Offset);
        return 0;
    }
}
