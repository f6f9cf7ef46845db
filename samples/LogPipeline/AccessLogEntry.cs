using System.Globalization;
using System.Text.RegularExpressions;

namespace LogPipeline;

/// <summary>One request from a web server's access log (common log format).</summary>
public sealed partial record AccessLogEntry(string Client, DateTimeOffset Time, string Method, string Path, int Status, long Bytes)
{
    /// <summary>Parses one line; throws <see cref="FormatException"/> for a line that is not in common log format.</summary>
    public static AccessLogEntry Parse(string line)
    {
        var match = LinePattern().Match(line);
        if (!match.Success)
        {
            throw new FormatException($"Not an access log line: '{line}'");
        }

        return new AccessLogEntry(
            match.Groups["client"].Value,
            DateTimeOffset.ParseExact(match.Groups["time"].Value, "dd/MMM/yyyy:HH:mm:ss zzz", CultureInfo.InvariantCulture),
            match.Groups["method"].Value,
            match.Groups["path"].Value,
            int.Parse(match.Groups["status"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["bytes"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex("""^(?<client>\S+) \S+ \S+ \[(?<time>[^\]]+)\] "(?<method>[A-Z]+) (?<path>\S+) [^"]*" (?<status>\d{3}) (?<bytes>\d+)$""")]
    private static partial Regex LinePattern();
}
