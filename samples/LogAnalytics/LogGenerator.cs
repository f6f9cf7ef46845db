using System.Globalization;
using System.Text;

namespace LogAnalytics;

/// <summary>
/// Writes a realistic, deterministic access log: Zipf-distributed paths with ids, hashes and query strings, a status mix, sizes
/// (<c>-</c> for bodiless responses), referers, browser and bot user agents (a few with escaped quotes), IPv4 and IPv6 clients,
/// one day of timestamps busiest around noon, and a share of malformed lines. ASCII only, <c>\n</c> line ends.
/// </summary>
public static partial class LogGenerator
{
    /// <summary>Writes the log described by <paramref name="options"/> to <paramref name="path"/> (through a temporary file, so an
    /// interrupted run never leaves a partial log under that name).</summary>
    /// <param name="path">The file to write; replaced when it exists. Its directory is created when missing.</param>
    /// <param name="options">What to write; <see langword="null"/> for the defaults (the sample's default log).</param>
    /// <returns>What was written.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when an option is out of range.</exception>
    /// <exception cref="IOException">Thrown when the file cannot be written.</exception>
    public static GeneratedLog Write(string path, LogGeneratorOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new LogGeneratorOptions();
        options.Validate();
        var fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        var temporary = fullPath + ".partial";
        GeneratedLog result;
        using (var writer = new StreamWriter(temporary, false, new UTF8Encoding(false), 1 << 16))
        {
            result = WriteLines(writer, fullPath, options);
        }

        File.Move(temporary, fullPath, overwrite: true);
        return result;
    }

    /// <summary>Writes the default log (1,000,000 Combined lines) to <paramref name="path"/> unless the file is already there.</summary>
    /// <param name="path">The file.</param>
    /// <returns><see langword="true"/> when it was written now; <see langword="false"/> when it existed.</returns>
    /// <exception cref="IOException">Thrown when the file cannot be written.</exception>
    public static bool EnsureDefault(string path)
    {
        if (File.Exists(path))
        {
            return false;
        }

        Write(path);
        return true;
    }

    private static GeneratedLog WriteLines(StreamWriter writer, string path, LogGeneratorOptions options)
    {
        var random = new SplitMix(options.Seed);
        var line = new StringBuilder(512);
        var malformed = new List<long>();
        long offset = 0, common = 0, ipv6 = 0, dashBytes = 0, escapedQuotes = 0;
        for (var i = 0; i < options.Lines; i++)
        {
            line.Clear();
            var time = TimeOf(options.Start, i, options.Lines);
            if (random.NextDouble() < options.MalformedShare)
            {
                AppendMalformed(line, ref random, time);
                malformed.Add(offset);
            }
            else
            {
                var shape = AppendRequest(line, ref random, time, options);
                common += shape.Common ? 1 : 0;
                ipv6 += shape.Ipv6 ? 1 : 0;
                dashBytes += shape.DashBytes ? 1 : 0;
                escapedQuotes += shape.EscapedQuote ? 1 : 0;
            }

            line.Append('\n');
            writer.Write(line);
            offset += line.Length;
        }

        return new GeneratedLog(path, options.Lines, offset, common, ipv6, dashBytes, escapedQuotes, malformed);
    }

    /// <summary>Spreads the lines over the day, denser around noon: the warp u + 0.6/(2π)·sin(2πu) is monotonic, so times never go back.</summary>
    private static DateTimeOffset TimeOf(DateTimeOffset start, int index, int lines)
    {
        var u = lines <= 1 ? 0 : (double)index / lines;
        var warped = u + (0.6 / (2 * Math.PI) * Math.Sin(2 * Math.PI * u));
        return start.AddSeconds(Math.Floor(warped * 86_399));
    }

    private static void AppendMalformed(StringBuilder line, ref SplitMix random, DateTimeOffset time)
    {
        switch (random.Next(5))
        {
            case 0:
                line.Append("%%% garbage ").Append(random.Next(1_000_000)).Append(" not a log line %%%");
                break;
            case 1:
                // Cut inside the request line: never a shorter valid line.
                line.Append("10.0.").Append(random.Next(256)).Append('.').Append(random.Next(256)).Append(" - - [");
                AppendTime(line, time);
                line.Append("] \"GET /api/orders/").Append(random.Next(100_000));
                break;
            case 2:
                line.Append("10.1.").Append(random.Next(256)).Append(".7 - - [32/Foo/2026:25:61:00 +0000] \"GET / HTTP/1.1\" 200 512");
                break;
            case 3:
                line.Append("10.2.").Append(random.Next(256)).Append(".9 - - [");
                AppendTime(line, time);
                line.Append("] \"GET /index.html HTTP/1.1\" OK 512 \"-\" \"curl/8.5.0\"");
                break;
            default:
                line.Append("192.168.").Append(random.Next(256)).Append('.').Append(random.Next(256)).Append(" - -");
                break;
        }
    }

    private static void AppendTime(StringBuilder line, DateTimeOffset time) =>
        line.Append(time.UtcDateTime.ToString("dd/MMM/yyyy:HH:mm:ss", CultureInfo.InvariantCulture)).Append(" +0000");

    /// <summary>SplitMix64: small, fast and the same on every platform and runtime version (unlike <see cref="Random"/>'s algorithm).</summary>
    private struct SplitMix(ulong seed)
    {
        private ulong _state = seed;

        public ulong NextUInt64()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public int Next(int maxExclusive) => (int)(NextUInt64() % (ulong)maxExclusive);

        public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    }
}
