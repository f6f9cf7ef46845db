using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>Options of one bounded handoff: which implementation, how many items it holds, and what a full handoff does with a write.</summary>
public sealed class HandoffOptions
{
    /// <summary>The smallest allowed <see cref="Capacity"/>.</summary>
    public const int MinCapacity = 1;

    /// <summary>The largest allowed <see cref="Capacity"/>.</summary>
    public const int MaxCapacity = 1_048_576;

    /// <summary>The default <see cref="Capacity"/>.</summary>
    public const int DefaultCapacity = 1024;

    /// <summary>Gets or sets the implementation.</summary>
    /// <value>The default value is <see cref="HandoffKind.Condition"/>.</value>
    public HandoffKind Kind { get; set; } = HandoffKind.Condition;

    /// <summary>Gets or sets how many items the handoff holds before writers wait or items are dropped.</summary>
    /// <value>The default value is 1024. Allowed: 1 to 1,048,576.</value>
    public int Capacity { get; set; } = DefaultCapacity;

    /// <summary>Gets or sets what a write does when the handoff is full.</summary>
    /// <value>The default value is <see cref="BoundedChannelFullMode.Wait"/>.</value>
    public BoundedChannelFullMode FullMode { get; set; } = BoundedChannelFullMode.Wait;
}
