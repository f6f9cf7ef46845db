using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Pipeline;

/// <summary>Where a pipeline's dead letters go, how durably they are written and how their items are serialized.</summary>
/// <remarks>
/// <see cref="Path"/> and <see cref="Durability"/> are read from <c>Pipelines:{name}:DeadLetter</c>; the serialization settings are
/// set in code only, e.g. <c>services.Configure&lt;PipelineOptions&gt;("orders", o =&gt; o.DeadLetter.AddItemType(AppJson.Default.Order))</c>.
/// Not thread-safe: configure before the pipeline starts.
/// </remarks>
public sealed class DeadLetterSettings
{
    private readonly Dictionary<Type, JsonTypeInfo> _itemTypes = [];

    /// <summary>Gets or sets the path of the dead-letter file (JSON lines).</summary>
    /// <value>The default value is <see langword="null"/> (none).</value>
    /// <remarks>
    /// In a host (<c>AddPipeline</c>), a relative path is resolved against the host's content root
    /// (<c>IHostEnvironment.ContentRootPath</c>), like <c>appsettings.json</c>; without a host, against the current directory.
    /// </remarks>
    public string? Path { get; set; }

    /// <summary>Gets or sets how far each dead letter is written before it counts as dead-lettered.</summary>
    /// <value>The default value is <see cref="DeadLetterDurability.Flush"/>.</value>
    public DeadLetterDurability Durability { get; set; } = DeadLetterDurability.Flush;

    /// <summary>
    /// Gets or sets the options that serialize items whose type was not added with <see cref="AddItemType{T}"/>; for trimmed and
    /// native AOT applications, options whose <see cref="JsonSerializerOptions.TypeInfoResolver"/> is a source-generated context.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: reflection-based serialization with default options. An item that cannot be
    /// serialized is written as its <see cref="object.ToString"/> text.
    /// </value>
    public JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>Gets the serialization metadata added with <see cref="AddItemType{T}"/>, by item type.</summary>
    internal IReadOnlyDictionary<Type, JsonTypeInfo> ItemTypes => _itemTypes;

    /// <summary>Serializes dead-lettered items of exactly type <typeparamref name="T"/> with <paramref name="typeInfo"/> (trimming and AOT safe).</summary>
    /// <typeparam name="T">The item type, as the stage that gives the item up sees it at run time.</typeparam>
    /// <param name="typeInfo">The metadata, e.g. from a source-generated <c>JsonSerializerContext</c>.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="typeInfo"/> is <see langword="null"/>.</exception>
    public DeadLetterSettings AddItemType<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        _itemTypes[typeof(T)] = typeInfo;
        return this;
    }
}
