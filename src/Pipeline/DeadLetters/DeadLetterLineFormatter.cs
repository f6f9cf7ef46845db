using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Pipeline;

/// <summary>Formats a dead letter as one line of the dead-letter file: a JSON object and a newline, in UTF-8. Thread-safe.</summary>
internal sealed class DeadLetterLineFormatter(JsonSerializerOptions? serializerOptions, IReadOnlyDictionary<Type, JsonTypeInfo> itemTypes)
{
    /// <summary>Keeps quotes and non-ASCII text readable in the file; each line is data, never embedded in HTML.</summary>
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Names of the line's properties, shared with <see cref="DeadLetterFileReader"/>.</summary>
    internal static class Names
    {
        public const string Timestamp = "timestamp";
        public const string Pipeline = "pipeline";
        public const string Stage = "stage";
        public const string Reason = "reason";
        public const string Error = "error";
        public const string Message = "message";
        public const string Attempts = "attempts";
        public const string Item = "item";

        /// <summary>Present only when the item could not be serialized: why, while <see cref="Item"/> holds its <c>ToString()</c>.</summary>
        public const string ItemError = "itemError";
    }

    private readonly Dictionary<Type, JsonTypeInfo> _itemTypes = new(itemTypes);

    /// <summary>Returns the line, newline included.</summary>
    public byte[] Format(DeadLetter deadLetter)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            json.WriteStartObject();
            json.WriteString(Names.Timestamp, deadLetter.Timestamp.ToUniversalTime());
            json.WriteString(Names.Pipeline, deadLetter.PipelineName);
            json.WriteString(Names.Stage, deadLetter.StageName);
            json.WriteString(Names.Reason, deadLetter.Reason);
            json.WriteString(Names.Error, deadLetter.Exception?.GetType().FullName);
            json.WriteString(Names.Message, deadLetter.Exception?.Message);
            json.WriteNumber(Names.Attempts, deadLetter.Attempts);
            json.WritePropertyName(Names.Item);
            WriteItem(json, deadLetter.Item);
            json.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private void WriteItem(Utf8JsonWriter json, object? item)
    {
        if (item is null)
        {
            json.WriteNullValue();
            return;
        }

        JsonElement element;
        try
        {
            // Serialized apart first: a serializer that fails half-way must not leave half an item in the line.
            element = Serialize(item);
        }
        catch (Exception exception) when (exception is NotSupportedException or JsonException or InvalidOperationException)
        {
            // Kept as text, and said so beside it: a replay cannot read this item back, and whoever reads the file must see why.
            json.WriteStringValue(item.ToString());
            json.WriteString(Names.ItemError, $"{exception.GetType().FullName}: {exception.Message}");
            return;
        }

        element.WriteTo(json);
    }

    private JsonElement Serialize(object item)
    {
        var type = item.GetType();
        if (_itemTypes.TryGetValue(type, out var typeInfo))
        {
            return JsonSerializer.SerializeToElement(item, typeInfo);
        }

        if (serializerOptions is not null)
        {
            return JsonSerializer.SerializeToElement(item, serializerOptions.GetTypeInfo(type));
        }

        return JsonSerializer.SerializeToElement(item, type);
    }
}
