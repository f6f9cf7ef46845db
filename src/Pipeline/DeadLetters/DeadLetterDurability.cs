namespace Pipeline;

/// <summary>How far a dead letter is written before <see cref="JsonLinesDeadLetterStore.WriteAsync"/> returns.</summary>
public enum DeadLetterDurability
{
    /// <summary>
    /// Written to the operating system (visible to any reader of the file, survives the process being killed) before the write
    /// returns; a power loss may still lose the last writes.
    /// </summary>
    Flush,

    /// <summary>Also forced to the storage device (<c>fsync</c>) before the write returns: survives a power loss, at the cost of a disk sync per group of writes.</summary>
    Fsync,
}
