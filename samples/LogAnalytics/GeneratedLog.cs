namespace LogAnalytics;

/// <summary>What <see cref="LogGenerator"/> wrote: counts by kind, and where the malformed lines are.</summary>
/// <param name="Path">The file written.</param>
/// <param name="Lines">How many lines were written.</param>
/// <param name="Bytes">The file's size in bytes.</param>
/// <param name="CommonLines">How many well-formed lines are in the Common Log Format.</param>
/// <param name="Ipv6Lines">How many well-formed lines have an IPv6 client.</param>
/// <param name="DashBytesLines">How many well-formed lines log the response size as <c>-</c>.</param>
/// <param name="EscapedQuoteLines">How many well-formed lines have a user agent with an escaped quote.</param>
/// <param name="MalformedOffsets">The byte offsets of the malformed lines, in file order.</param>
public sealed record GeneratedLog(
    string Path, long Lines, long Bytes, long CommonLines, long Ipv6Lines, long DashBytesLines, long EscapedQuoteLines, IReadOnlyList<long> MalformedOffsets);
