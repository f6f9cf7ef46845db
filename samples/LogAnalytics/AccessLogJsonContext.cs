using System.Text.Json.Serialization;

namespace LogAnalytics;

/// <summary>
/// System.Text.Json source generation for what crosses the Redis stream between a producer and its consumers: one
/// <see cref="AccessLogEntry"/> per entry, with its <see cref="AccessLogEntry.Source"/> and <see cref="AccessLogEntry.Offset"/> (the
/// store's exactly-once key). Fields logged as <c>-</c> (null) are left out.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AccessLogEntry))]
internal sealed partial class AccessLogJsonContext : JsonSerializerContext;
