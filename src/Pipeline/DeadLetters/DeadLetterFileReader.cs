using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Names = Pipeline.DeadLetterLineFormatter.Names;

namespace Pipeline;

/// <summary>Reads a dead-letter file written by <see cref="JsonLinesDeadLetterStore"/> back, in file order, items typed.</summary>
public static class DeadLetterFileReader
{
    /// <summary>Reads every dead letter of the file at <paramref name="path"/>.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="path">The dead-letter file.</param>
    /// <param name="itemTypeInfo">Deserializes the items (trimming and AOT safe); for reflection-based options use <c>(JsonTypeInfo&lt;T&gt;)options.GetTypeInfo(typeof(T))</c>.</param>
    /// <param name="logger">Receives a warning for each line skipped; <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    /// <returns>The dead letters, in file order. A line that is not a complete JSON object (torn by a crash while it was written) is skipped with a warning.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="path"/> or <paramref name="itemTypeInfo"/> is <see langword="null"/>.</exception>
    /// <exception cref="FileNotFoundException">Thrown, when enumerated, if the file does not exist.</exception>
    /// <exception cref="InvalidDataException">Thrown, when enumerated, for a complete line whose item cannot be read as <typeparamref name="T"/>; the message names the file and the line.</exception>
    public static IAsyncEnumerable<DeadLetterEntry<T>> ReadAsync<T>(string path, JsonTypeInfo<T> itemTypeInfo, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(itemTypeInfo);
        return ReadRangeAsync(path, 0, long.MaxValue, itemTypeInfo, logger ?? NullLogger.Instance, cancellationToken);
    }

    /// <summary>Reads the lines that start at or after <paramref name="startOffset"/> and before <paramref name="endOffset"/>.</summary>
    internal static async IAsyncEnumerable<DeadLetterEntry<T>> ReadRangeAsync<T>(string path, long startOffset, long endOffset, JsonTypeInfo<T> itemTypeInfo,
        ILogger logger, [EnumeratorCancellation] CancellationToken cancellationToken, IReadOnlyCollection<string>? stages = null)
    {
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            var scanner = new LineScanner(file, startOffset);

            // Lines are numbered from the start of the file, as an editor numbers them, also when the reading resumes further on.
            var lineNumber = startOffset > 0 ? await CountLinesAsync(file, startOffset, cancellationToken).ConfigureAwait(false) : 0L;
            var atEnd = false;
            while (scanner.Offset < endOffset)
            {
                if (!TryTake(scanner, atEnd, path, lineNumber + 1, itemTypeInfo, logger, stages, out var entry))
                {
                    if (atEnd)
                    {
                        yield break;
                    }

                    atEnd = !await scanner.FillAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                lineNumber++;
                if (entry is not null && entry.StartOffset < endOffset)
                {
                    yield return entry;
                }
            }
        }
    }

    /// <summary>Counts the line ends in the first <paramref name="length"/> bytes of <paramref name="file"/>.</summary>
    private static async Task<long> CountLinesAsync(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var lines = 0L;
        for (var offset = 0L; offset < length;)
        {
            var read = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - offset)), offset, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            offset += read;
        }

        return lines;
    }

    /// <summary>Takes the next line, or returns <see langword="false"/> when none is buffered; <paramref name="entry"/> is <see langword="null"/> for a skipped line.</summary>
    private static bool TryTake<T>(LineScanner scanner, bool atEnd, string path, long lineNumber, JsonTypeInfo<T> itemTypeInfo, ILogger logger,
        IReadOnlyCollection<string>? stages, out DeadLetterEntry<T>? entry)
    {
        entry = null;
        if (!scanner.TryTakeLine(out var line, out var startOffset) && !(atEnd && scanner.TryTakeRemainder(out line, out startOffset)))
        {
            return false;
        }

        if (line.IsEmpty)
        {
            return true;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line.ToArray());
        }
        catch (JsonException)
        {
            logger.TornLineSkipped(path, lineNumber);
            return true;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                logger.TornLineSkipped(path, lineNumber);
                return true;
            }

            // A line of another stage holds an item of another type: passed over unread.
            if (stages is not null && (GetString(root, Names.Stage) is not { } stage || !stages.Contains(stage)))
            {
                return true;
            }

            T? item;
            try
            {
                item = root.TryGetProperty(Names.Item, out var itemElement) ? itemElement.Deserialize(itemTypeInfo) : default;
            }
            catch (JsonException exception)
            {
                throw new InvalidDataException(
                    $"Dead-letter file {path}, line {lineNumber}: the item cannot be read as {typeof(T).Name}: {exception.Message}", exception);
            }

            entry = new DeadLetterEntry<T>(
                item,
                GetString(root, Names.Pipeline),
                GetString(root, Names.Stage),
                GetString(root, Names.Reason),
                GetString(root, Names.Error),
                GetString(root, Names.Message),
                root.TryGetProperty(Names.Attempts, out var attempts) && attempts.TryGetInt32(out var count) ? count : 1,
                root.TryGetProperty(Names.Timestamp, out var timestamp) && timestamp.TryGetDateTimeOffset(out var time) ? time : default,
                lineNumber,
                startOffset,
                scanner.Offset);
            return true;
        }
    }

    private static string? GetString(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
