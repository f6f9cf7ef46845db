using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>
/// The fields of a stream entry written by <see cref="RedisStreamSink{T}"/>: <c>item</c> (the item as UTF-8 JSON) and, when an
/// activity was current at the write, <c>traceparent</c> (W3C trace context) and <c>tracestate</c> if it has one. The source hands
/// the trace context on with each item (<see cref="PositionedItem{T}.TraceContext"/>), so a traced item's spans continue the writer's trace.
/// </summary>
internal static class RedisStreamEntryFormat
{
    /// <summary>The field holding the item's JSON.</summary>
    public const string ItemField = "item";

    /// <summary>The field holding the writer's W3C <c>traceparent</c>.</summary>
    public const string TraceParentField = "traceparent";

    /// <summary>The field holding the writer's W3C <c>tracestate</c>.</summary>
    public const string TraceStateField = "tracestate";

    /// <summary>Returns the entry's fields for <paramref name="item"/>, with the current activity's trace context if any.</summary>
    public static NameValueEntry[] Create<T>(T item, JsonTypeInfo<T> typeInfo)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(item, typeInfo);
        var activity = Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || activity.Id is null)
        {
            return [new NameValueEntry(ItemField, json)];
        }

        return activity.TraceStateString is { Length: > 0 } state
            ? [new NameValueEntry(ItemField, json), new NameValueEntry(TraceParentField, activity.Id), new NameValueEntry(TraceStateField, state)]
            : [new NameValueEntry(ItemField, json), new NameValueEntry(TraceParentField, activity.Id)];
    }

    /// <summary>Reads the item of <paramref name="entry"/>; returns <see langword="false"/> with why when it cannot be read.</summary>
    public static bool TryRead<T>(StreamEntry entry, JsonTypeInfo<T> typeInfo, out T item, out string? error)
    {
        item = default!;
        var json = entry[ItemField];
        if (json.IsNull)
        {
            error = $"the entry has no '{ItemField}' field";
            return false;
        }

        try
        {
            item = JsonSerializer.Deserialize((byte[])json!, typeInfo)!;
            error = null;
            return true;
        }
        catch (JsonException exception)
        {
            error = $"the '{ItemField}' field is not JSON of {typeof(T).Name}: {exception.Message}";
            return false;
        }
    }

    /// <summary>Returns the W3C trace context in the entry's <c>traceparent</c> and <c>tracestate</c> fields, or <see langword="default"/> when it has none (or a malformed one).</summary>
    public static ActivityContext ReadTraceContext(StreamEntry entry)
    {
        var traceParent = entry[TraceParentField];
        if (traceParent.IsNullOrEmpty)
        {
            return default;
        }

        var traceState = entry[TraceStateField];
        return ActivityContext.TryParse(traceParent.ToString(), traceState.IsNullOrEmpty ? null : traceState.ToString(), isRemote: true, out var context)
            ? context
            : default;
    }

    /// <summary>Returns the raw <c>item</c> field as text (for a dead letter whose item cannot be read), or <see langword="null"/>.</summary>
    public static string? RawItem(StreamEntry entry)
    {
        var json = entry[ItemField];
        return json.IsNull ? null : json.ToString();
    }

    /// <summary>Returns <paramref name="typeInfo"/>, or the reflection-based contract of <typeparamref name="T"/> with default options.</summary>
    public static JsonTypeInfo<T> Resolve<T>(JsonTypeInfo<T>? typeInfo) =>
        typeInfo ?? (JsonTypeInfo<T>)JsonSerializerOptions.Default.GetTypeInfo(typeof(T));
}
