namespace Pipeline;

/// <summary>One line of a text file read by <see cref="FileSource"/>, with where it lies in the file.</summary>
/// <remarks>A struct: the line's text is its only allocation.</remarks>
public readonly struct FileLine
{
    /// <summary>Initializes a line.</summary>
    /// <param name="text">The line's text, without its line break.</param>
    /// <param name="startOffset">The byte offset of the line's first byte in the file.</param>
    /// <param name="endOffset">The byte offset after the line's line break (for a last line without one, after its last byte).</param>
    /// <remarks>System.Text.Json reads a line back through this constructor (a dead letter replayed by <see cref="DeadLetterSource{T}"/>).</remarks>
    [System.Text.Json.Serialization.JsonConstructor]
    public FileLine(string text, long startOffset, long endOffset)
    {
        Text = text;
        StartOffset = startOffset;
        EndOffset = endOffset;
    }

    /// <summary>Gets the line's text, decoded from UTF-8, without its <c>\n</c> or <c>\r\n</c>.</summary>
    public string Text { get; }

    /// <summary>Gets the byte offset of the line's first byte in the file it was read from; with the path, a stable key for the line.</summary>
    public long StartOffset { get; }

    /// <summary>Gets the byte offset after the line's line break in the file it was read from: where the next line starts.</summary>
    public long EndOffset { get; }

    /// <summary>Returns the line's text.</summary>
    /// <returns><see cref="Text"/>.</returns>
    public override string ToString() => Text;
}
