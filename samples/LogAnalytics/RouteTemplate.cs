using System.Text;

namespace LogAnalytics;

/// <summary>
/// Turns a request target into its route template: the query string and fragment are dropped, and in every path segment each
/// dot-separated part that is a number or a GUID becomes <c>{id}</c> and each hexadecimal hash (8 or more hex digits, at least
/// one of them a digit) becomes <c>{hash}</c>: <c>/api/orders/123?x=1</c> → <c>/api/orders/{id}</c>,
/// <c>/static/app.3f9a2c1d.js</c> → <c>/static/app.{hash}.js</c>. Thread-safe.
/// </summary>
public static class RouteTemplate
{
    /// <summary>Returns the route template of <paramref name="target"/>.</summary>
    /// <param name="target">A request target as logged (path and optional query string).</param>
    /// <returns>The template; <paramref name="target"/> itself when nothing changes.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="target"/> is <see langword="null"/>.</exception>
    public static string Of(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var path = target.AsSpan();
        var queryStart = path.IndexOfAny('?', '#');
        if (queryStart >= 0)
        {
            path = path[..queryStart];
        }

        if (!NeedsTemplate(path))
        {
            return queryStart >= 0 ? path.ToString() : target;
        }

        var builder = new StringBuilder(path.Length);
        var partStart = 0;
        for (var i = 0; i <= path.Length; i++)
        {
            if (i == path.Length || path[i] is '/' or '.')
            {
                AppendPart(builder, path[partStart..i]);
                if (i < path.Length)
                {
                    builder.Append(path[i]);
                }

                partStart = i + 1;
            }
        }

        return builder.ToString();
    }

    private static bool NeedsTemplate(ReadOnlySpan<char> path)
    {
        var partStart = 0;
        for (var i = 0; i <= path.Length; i++)
        {
            if (i == path.Length || path[i] is '/' or '.')
            {
                if (Classify(path[partStart..i]) is not null)
                {
                    return true;
                }

                partStart = i + 1;
            }
        }

        return false;
    }

    private static void AppendPart(StringBuilder builder, ReadOnlySpan<char> part) => builder.Append(Classify(part) ?? (object)part.ToString());

    /// <summary>Returns the placeholder for <paramref name="part"/>, or <see langword="null"/> when it stays as it is.</summary>
    private static string? Classify(ReadOnlySpan<char> part)
    {
        if (part.IsEmpty)
        {
            return null;
        }

        var digits = 0;
        var hex = 0;
        foreach (var c in part)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (char.IsAsciiHexDigit(c))
            {
                hex++;
            }
        }

        if (digits == part.Length)
        {
            return "{id}";
        }

        if (part.Length == 36 && Guid.TryParseExact(part, "D", out _))
        {
            return "{id}";
        }

        return part.Length >= 8 && digits > 0 && digits + hex == part.Length ? "{hash}" : null;
    }
}
