using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Pipeline;

namespace LogAnalytics;

/// <summary>
/// The read stage: the library's <see cref="FileSource"/> (checkpoint, follow mode with rotation and truncation), each line turned
/// into a <see cref="LogLine"/> whose <see cref="LogLine.Source"/> and <see cref="LogLine.Offset"/> identify it across restarts,
/// rotations and re-runs — the key of the store's upsert.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="LogLine.Source"/> is the input's full path, <c>#</c>, and the first 16 hex digits of the SHA-256 of the file's first line:
/// after a rotation the path names a new file whose offsets start again at 0, and the first line tells the two files apart (two
/// files that start with the same line cannot be told apart, as for <see cref="FileSource"/>'s own fingerprint). The first line is
/// taken from the first line read when the file is read from its start, or read from the file once when a checkpoint resumes it
/// (from <see cref="FileSource.ResumedRotatedPath"/> when the checkpoint belonged to a file rotated away).
/// </para>
/// <para>Positions and acknowledgements are <see cref="FileSource"/>'s, passed through unchanged. Thread-safety: as <see cref="FileSource"/>.</para>
/// </remarks>
/// <param name="files">The file source that reads the lines.</param>
public sealed class AccessLogSource(FileSource files) : IAcknowledgingSource<LogLine>
{
    /// <summary>The most bytes read to find a file's first line when a checkpoint resumes it.</summary>
    private const int MaxFirstLineBytes = 64 * 1024;

    /// <summary>Gets the file source the lines come from.</summary>
    public FileSource Files { get; } = files ?? throw new ArgumentNullException(nameof(files));

    /// <summary>Returns the file's lines, from the checkpoint on, as <see cref="LogLine"/>s with their positions.</summary>
    /// <param name="stoppingToken">Ends the sequence when cancelled, as <see cref="FileSource.ReadAsync"/>.</param>
    /// <returns>The lines, positions strictly increasing.</returns>
    /// <exception cref="FileNotFoundException">Thrown, when enumerated without follow mode, if the file does not exist.</exception>
    public async IAsyncEnumerable<PositionedItem<LogLine>> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        long? segmentBase = null;
        var source = string.Empty;
        await foreach (var positioned in Files.ReadAsync(stoppingToken).ConfigureAwait(false))
        {
            var line = positioned.Item;

            // Positions are the file offset plus the bytes of the files (or truncation generations) read before: a new base is a new file.
            var lineBase = positioned.Position - line.EndOffset;
            if (lineBase != segmentBase)
            {
                segmentBase = lineBase;
                // A restart whose checkpoint belonged to a file rotated away begins with that file's lines (base 0).
                var path = lineBase == 0 && Files.ResumedRotatedPath is { } rotated ? rotated : Files.Path;
                source = Identify(line.StartOffset == 0 ? line.Text : ReadFirstLine(path));
            }

            yield return new PositionedItem<LogLine>(new LogLine(source, line.StartOffset, line.Text), positioned.Position, positioned.IsReplay);
        }
    }

    /// <summary>Reads every line of <paramref name="path"/> from its start, as the read stage would, without a checkpoint (none is
    /// read or written): for tests and the benchmark's plain loop.</summary>
    /// <param name="path">The access log.</param>
    /// <param name="cancellationToken">Ends the sequence when cancelled.</param>
    /// <returns>The lines, in file order.</returns>
    /// <exception cref="FileNotFoundException">Thrown, when enumerated, if the file does not exist.</exception>
    public static async IAsyncEnumerable<LogLine> ReadAllAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // A checkpoint path in a folder of its own that is never written: the file is read from its start.
        var noCheckpoint = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "log-analytics-no-checkpoint-" + Guid.NewGuid().ToString("N"));
        var source = new AccessLogSource(new FileSource(new FileSourceOptions { Path = path, CheckpointPath = noCheckpoint }));
        await foreach (var line in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return line.Item;
        }
    }

    /// <inheritdoc cref="FileSource.AcknowledgeAsync"/>
    public ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken) => Files.AcknowledgeAsync(position, cancellationToken);

    /// <summary>Returns the source name of the file at <see cref="FileSource.Path"/> whose first line is <paramref name="firstLine"/>.</summary>
    private string Identify(string firstLine)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(firstLine), hash);
        return Files.Path + "#" + Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>Reads the first line of the file as <see cref="FileSource"/> would yield it: byte order mark and line break removed.</summary>
    private static string ReadFirstLine(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[MaxFirstLineBytes];
        var length = RandomAccess.Read(file, buffer, 0);
        var bytes = buffer.AsSpan(0, length);
        if (bytes.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }

        var end = bytes.IndexOf((byte)'\n');
        bytes = end >= 0 ? bytes[..end] : bytes;
        if (bytes.EndsWith("\r"u8))
        {
            bytes = bytes[..^1];
        }

        return Encoding.UTF8.GetString(bytes);
    }
}
