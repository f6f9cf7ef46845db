namespace Pipeline;

/// <summary>Where a pipeline's dead letters go.</summary>
public sealed class DeadLetterSettings
{
    /// <summary>Gets or sets the path of the dead-letter file (JSON lines).</summary>
    /// <value>The default value is <see langword="null"/> (none).</value>
    public string? Path { get; set; }
}
