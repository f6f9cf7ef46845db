using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Pipeline;

/// <summary>
/// Appends each dead letter as one JSON object per line: <c>timestamp</c>, <c>pipeline</c>, <c>stage</c>, <c>reason</c>,
/// <c>error</c> (type), <c>message</c>, <c>item</c> (the item as JSON, or its text when it cannot be serialized).
/// </summary>
internal sealed class JsonLinesDeadLetterStore(string path) : IDeadLetterStore, IAsyncDisposable
{
    /// <summary>Keeps quotes and non-ASCII text readable in the file; each line is data, never embedded in HTML.</summary>
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private StreamWriter? _writer;

    /// <summary>Set once disposed: a late write throws instead of reopening the file.</summary>
    private bool _disposed;

    public async ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        var line = Format(deadLetter);
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is null)
            {
                var directory = Path.GetDirectoryName(Path.GetFullPath(path));
                if (!string.IsNullOrEmpty(directory))
                {
                    Directory.CreateDirectory(directory);
                }

                _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
            }

            // Not cancelled: a dead letter half-written would be lost unseen. Flushed before it counts as dead-lettered.
            await _writer.WriteLineAsync(line).ConfigureAwait(false);
            await _writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // After a write in progress, never during it: closing under a write could tear the file.
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            _writer = null;
        }

        _disposed = true;
        _writeLock.Release();
    }

    internal static string Format(DeadLetter deadLetter)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", deadLetter.Timestamp);
            json.WriteString("pipeline", deadLetter.PipelineName);
            json.WriteString("stage", deadLetter.StageName);
            json.WriteString("reason", deadLetter.Reason);
            json.WriteString("error", deadLetter.Exception?.GetType().FullName);
            json.WriteString("message", deadLetter.Exception?.Message);
            json.WritePropertyName("item");
            WriteItem(json, deadLetter.Item);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteItem(Utf8JsonWriter json, object? item)
    {
        if (item is null)
        {
            json.WriteNullValue();
            return;
        }

        JsonElement element;
        try
        {
            element = JsonSerializer.SerializeToElement(item, item.GetType());
        }
        catch (Exception exception) when (exception is NotSupportedException or JsonException or InvalidOperationException)
        {
            json.WriteStringValue(item.ToString());
            return;
        }

        element.WriteTo(json);
    }
}
