namespace Pipeline.Handoffs;

/// <summary>The implementation behind a bounded handoff between two stages.</summary>
public enum HandoffKind
{
    /// <summary>ConditionChannel: one lock and two conditions (not-empty, not-full) over a ring buffer.</summary>
    Condition,

    /// <summary>SemaphoreChannel: a bounded semaphore of free slots and a counting semaphore of filled slots.</summary>
    Semaphore,

    /// <summary>The BCL bounded channel from <see cref="System.Threading.Channels.Channel.CreateBounded{T}(System.Threading.Channels.BoundedChannelOptions)"/>.</summary>
    Channel,
}
