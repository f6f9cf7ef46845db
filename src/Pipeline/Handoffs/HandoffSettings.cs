using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>
/// Settings of a stage's input handoff, each optional: a value left <see langword="null"/> is inherited (stage configuration,
/// then pipeline configuration, then stage code default, then pipeline code default, then <see cref="HandoffOptions"/>).
/// </summary>
public sealed class HandoffSettings
{
    /// <summary>Gets or sets the handoff implementation.</summary>
    /// <value>The default value is <see langword="null"/> (inherited).</value>
    public HandoffKind? Kind { get; set; }

    /// <summary>Gets or sets how many items the handoff holds.</summary>
    /// <value>The default value is <see langword="null"/> (inherited). Allowed: 1 to 1,048,576.</value>
    public int? Capacity { get; set; }

    /// <summary>Gets or sets what a write into a full handoff does.</summary>
    /// <value>The default value is <see langword="null"/> (inherited).</value>
    public BoundedChannelFullMode? FullMode { get; set; }

    internal HandoffSettings Clone() => new() { Kind = Kind, Capacity = Capacity, FullMode = FullMode };
}
