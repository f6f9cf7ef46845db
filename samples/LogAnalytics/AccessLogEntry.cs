namespace LogAnalytics;

/// <summary>One request parsed from a Combined or Common Log Format line.</summary>
public sealed record AccessLogEntry
{
    /// <summary>Gets the file the line came from.</summary>
    public required string Source { get; init; }

    /// <summary>Gets the byte offset of the line in <see cref="Source"/>.</summary>
    public required long Offset { get; init; }

    /// <summary>Gets the client address (IPv4, IPv6 or host name) as logged.</summary>
    public required string Client { get; init; }

    /// <summary>Gets the authenticated user, or <see langword="null"/> when logged as <c>-</c>.</summary>
    public string? User { get; init; }

    /// <summary>Gets when the request was received, with the offset the server logged.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Gets the request method (<c>GET</c>, <c>POST</c>, ...).</summary>
    public required string Method { get; init; }

    /// <summary>Gets the request target as logged: path and query string.</summary>
    public required string Path { get; init; }

    /// <summary>Gets the protocol (<c>HTTP/1.1</c>), or <see langword="null"/> when the request line has none (HTTP/0.9).</summary>
    public string? Protocol { get; init; }

    /// <summary>Gets the response status code.</summary>
    public required int Status { get; init; }

    /// <summary>Gets the response size in bytes; 0 when logged as <c>-</c> (no body).</summary>
    public required long Bytes { get; init; }

    /// <summary>Gets the referer, or <see langword="null"/> when logged as <c>-</c> or absent (Common Log Format).</summary>
    public string? Referer { get; init; }

    /// <summary>Gets the user agent, or <see langword="null"/> when logged as <c>-</c> or absent (Common Log Format).</summary>
    public string? UserAgent { get; init; }
}
