using System.Globalization;
using System.Text;
using CommunityToolkit.HighPerformance.Buffers;

namespace LogAnalytics;

/// <summary>
/// Parses access log lines in the Combined Log Format (<c>%h %l %u %t "%r" %&gt;s %b "%{Referer}i" "%{User-agent}i"</c>, nginx's and
/// Apache's default) and the Common Log Format (the same without referer and user agent). Span-based: the only allocations are
/// the strings of the entry.
/// </summary>
/// <remarks>
/// Accepted: <c>-</c> for user, bytes, referer and user agent; quoted fields with <c>\"</c> and <c>\\</c> escapes; IPv6 and
/// host-name clients; request lines without a protocol, and nginx's <c>"-"</c> for no request line (method and path <c>-</c>); further fields after the user agent (ignored). A line that does not have
/// this shape throws <see cref="FormatException"/> whose message says what was expected where.
/// </remarks>
public static class AccessLogParser
{
    /// <summary>Parses <paramref name="line"/>.</summary>
    /// <param name="line">The line and where it came from.</param>
    /// <returns>The request.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="line"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException">Thrown when the line is not in Combined or Common Log Format; the message gives the reason.</exception>
    public static AccessLogEntry Parse(LogLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var text = line.Text.AsSpan();
        var position = 0;

        var client = NextToken(text, ref position, "client address");
        NextToken(text, ref position, "identity");
        var user = NextToken(text, ref position, "user");

        if (position >= text.Length || text[position] != '[')
        {
            throw Malformed("expected '[' before the timestamp", position);
        }

        var close = text[position..].IndexOf(']');
        if (close < 0)
        {
            throw Malformed("the timestamp has no closing ']'", position);
        }

        var time = ParseTime(text.Slice(position + 1, close - 1), position + 1);
        position += close + 1;
        SkipSpace(text, ref position, "after the timestamp");

        var request = QuotedField(text, ref position, "request line");
        var (method, path, protocol) = SplitRequest(request, position);
        SkipSpace(text, ref position, "after the request line");

        var statusToken = NextToken(text, ref position, "status");
        if (statusToken.Length != 3 || !int.TryParse(statusToken, NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status < 100)
        {
            throw Malformed($"status '{statusToken}' is not a three-digit code", position);
        }

        var bytesToken = NextToken(text, ref position, "response size", lastAllowed: true);
        long bytes = 0;
        if (!bytesToken.SequenceEqual("-") && !long.TryParse(bytesToken, NumberStyles.None, CultureInfo.InvariantCulture, out bytes))
        {
            throw Malformed($"response size '{bytesToken}' is neither a number nor '-'", position);
        }

        string? referer = null;
        string? userAgent = null;
        if (position < text.Length)
        {
            referer = DashToNull(QuotedField(text, ref position, "referer", pooled: true));
            SkipSpace(text, ref position, "after the referer");
            userAgent = DashToNull(QuotedField(text, ref position, "user agent", pooled: true));
            if (position < text.Length && text[position] != ' ')
            {
                throw Malformed("expected a space or the end of the line after the user agent", position);
            }
        }

        return new AccessLogEntry
        {
            Source = line.Source,
            Offset = line.Offset,
            Client = client.ToString(),
            User = user.SequenceEqual("-") ? null : user.ToString(),
            Time = time,
            Method = method,
            Path = path,
            Protocol = protocol,
            Status = status,
            Bytes = bytes,
            Referer = referer,
            UserAgent = userAgent,
        };
    }

    private static ReadOnlySpan<char> NextToken(ReadOnlySpan<char> text, ref int position, string field, bool lastAllowed = false)
    {
        if (position >= text.Length)
        {
            throw Malformed($"the line ends before the {field}", position);
        }

        var rest = text[position..];
        var space = rest.IndexOf(' ');
        var token = space < 0 ? rest : rest[..space];
        if (token.IsEmpty)
        {
            throw Malformed($"the {field} is empty", position);
        }

        if (space < 0)
        {
            if (!lastAllowed)
            {
                throw Malformed($"the line ends after the {field}", position);
            }

            position = text.Length;
        }
        else
        {
            position += space + 1;
        }

        return token;
    }

    private static void SkipSpace(ReadOnlySpan<char> text, ref int position, string where)
    {
        if (position >= text.Length || text[position] != ' ')
        {
            throw Malformed($"expected a space {where}", position);
        }

        position++;
    }

    /// <summary>Reads a double-quoted field at <paramref name="position"/>, undoing <c>\"</c> and <c>\\</c> escapes; a field without
    /// escapes comes from the shared string pool when <paramref name="pooled"/>.</summary>
    private static string QuotedField(ReadOnlySpan<char> text, ref int position, string field, bool pooled = false)
    {
        if (position >= text.Length || text[position] != '"')
        {
            throw Malformed($"expected '\"' before the {field}", position);
        }

        var start = position + 1;
        var rest = text[start..];
        var end = rest.IndexOfAny('"', '\\');
        if (end >= 0 && rest[end] == '"')
        {
            // No escapes: the common case, one allocation (none for a pooled value seen before).
            position = start + end + 1;
            return pooled ? StringPool.Shared.GetOrAdd(rest[..end]) : rest[..end].ToString();
        }

        var builder = new StringBuilder(rest.Length);
        for (var i = 0; i < rest.Length; i++)
        {
            var c = rest[i];
            if (c == '\\' && i + 1 < rest.Length)
            {
                builder.Append(rest[++i]);
            }
            else if (c == '"')
            {
                position = start + i + 1;
                return builder.ToString();
            }
            else
            {
                builder.Append(c);
            }
        }

        throw Malformed($"the {field} has no closing '\"'", start - 1);
    }

    private static (string Method, string Path, string? Protocol) SplitRequest(string request, int position)
    {
        var span = request.AsSpan();
        if (span is "-")
        {
            // nginx logs "-" when a client sent no request line (a probe, an idle keep-alive or TLS connection closed): a request
            // with no method and no target, usually with status 400 or 408.
            return ("-", "-", null);
        }

        var firstSpace = span.IndexOf(' ');
        if (firstSpace <= 0)
        {
            throw Malformed($"request line '{request}' has no method and target", position);
        }

        var method = span[..firstSpace];
        foreach (var c in method)
        {
            if (c is < 'A' or > 'Z')
            {
                throw Malformed($"request method '{method}' is not an HTTP method", position);
            }
        }

        var rest = span[(firstSpace + 1)..];
        var secondSpace = rest.LastIndexOf(' ');
        var target = secondSpace < 0 ? rest : rest[..secondSpace];
        if (target.IsEmpty)
        {
            throw Malformed($"request line '{request}' has an empty target", position);
        }

        return (InternMethod(method), target.ToString(), secondSpace < 0 ? null : InternProtocol(rest[(secondSpace + 1)..]));
    }

    private static string InternMethod(ReadOnlySpan<char> method) => method switch
    {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => method.ToString(),
    };

    private static string InternProtocol(ReadOnlySpan<char> protocol) => protocol switch
    {
        "HTTP/1.1" => "HTTP/1.1",
        "HTTP/1.0" => "HTTP/1.0",
        "HTTP/2.0" => "HTTP/2.0",
        _ => protocol.ToString(),
    };

    /// <summary>Parses <c>10/Oct/2000:13:55:36 -0700</c>.</summary>
    private static DateTimeOffset ParseTime(ReadOnlySpan<char> text, int position)
    {
        if (text.Length != 26 || text[2] != '/' || text[6] != '/' || text[11] != ':' || text[14] != ':' || text[17] != ':'
            || text[20] != ' ' || (text[21] != '+' && text[21] != '-'))
        {
            throw Malformed($"timestamp '{text}' is not dd/MMM/yyyy:HH:mm:ss +zzzz", position);
        }

        var month = text.Slice(3, 3) switch
        {
            "Jan" => 1, "Feb" => 2, "Mar" => 3, "Apr" => 4, "May" => 5, "Jun" => 6,
            "Jul" => 7, "Aug" => 8, "Sep" => 9, "Oct" => 10, "Nov" => 11, "Dec" => 12,
            _ => throw Malformed($"timestamp '{text}' has an unknown month", position),
        };
        var day = Digits(text, 0, 2, position);
        var year = Digits(text, 7, 4, position);
        var hour = Digits(text, 12, 2, position);
        var minute = Digits(text, 15, 2, position);
        var second = Digits(text, 18, 2, position);
        var offsetMinutes = (Digits(text, 22, 2, position) * 60) + Digits(text, 24, 2, position);
        if (text[21] == '-')
        {
            offsetMinutes = -offsetMinutes;
        }

        if (year < 1 || day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month) || hour > 23 || minute > 59 || second > 59 || Math.Abs(offsetMinutes) > 14 * 60)
        {
            throw Malformed($"timestamp '{text}' is out of range", position);
        }

        return new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.FromMinutes(offsetMinutes));
    }

    private static int Digits(ReadOnlySpan<char> text, int start, int length, int position)
    {
        var value = 0;
        foreach (var c in text.Slice(start, length))
        {
            if (c is < '0' or > '9')
            {
                throw Malformed($"timestamp '{text}' has '{c}' where a digit belongs", position);
            }

            value = (value * 10) + (c - '0');
        }

        return value;
    }

    private static string? DashToNull(string value) => value is "-" or "" ? null : value;

    private static FormatException Malformed(string reason, int column) =>
        new($"Not a Combined or Common Log Format line: {reason} (column {column + 1}).");
}
