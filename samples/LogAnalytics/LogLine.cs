namespace LogAnalytics;

/// <summary>One line of an access log and where it was read from.</summary>
/// <param name="Source">The full path of the file the line was read from.</param>
/// <param name="Offset">The byte offset of the line's first byte in that file: with <paramref name="Source"/>, the line's identity.</param>
/// <param name="Text">The line without its line terminator.</param>
public sealed record LogLine(string Source, long Offset, string Text);
