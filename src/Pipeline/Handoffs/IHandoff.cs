using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>
/// What every channel built by <see cref="Handoff.Create{T}(HandoffOptions)"/> tells about itself, whatever its
/// <see cref="HandoffKind"/>: its settings and how many items it has dropped. Cast the returned
/// <see cref="Channel{T}"/> to this interface to read them.
/// </summary>
public interface IHandoff
{
    /// <summary>Gets the implementation behind the handoff.</summary>
    HandoffKind Kind { get; }

    /// <summary>Gets how many items the handoff holds at most.</summary>
    int Capacity { get; }

    /// <summary>Gets what a write does when the handoff is full.</summary>
    BoundedChannelFullMode FullMode { get; }

    /// <summary>
    /// Gets how many items the handoff has dropped because it was full (only in the drop modes of
    /// <see cref="BoundedChannelFullMode"/>); each of them was also passed to the item-dropped callback, if one was given.
    /// The count only grows, and is safe to read from any thread.
    /// </summary>
    long Dropped { get; }
}
