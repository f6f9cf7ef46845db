using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Pipeline.Tests.Sources;

/// <summary>
/// The files of a crash run, as the test reads them: the input's lines (<c>NNNNNN payload</c>), the worker's output and dead-letter
/// files, and which lines a checkpoint says are accounted for.
/// </summary>
internal static class CrashRunFiles
{
    /// <summary>A line whose number is divisible by this is rejected by the worker's <c>parse</c> stage (dead-lettered).</summary>
    public const int RejectDivisor = 997;

    /// <summary>The last line of a followed input: the worker stops gracefully once it has sunk it (and does not write it).</summary>
    public const string Sentinel = "END";

    /// <summary>Returns line <paramref name="number"/>'s text: its number and a payload whose length comes from <paramref name="random"/>.</summary>
    public static string LineText(int number, Random random)
        => number.ToString("D6", CultureInfo.InvariantCulture) + " " + new string((char)('a' + (number % 26)), random.Next(8, 90));

    /// <summary>Appends <paramref name="texts"/>, each with its newline, in one write.</summary>
    public static void Append(string path, IEnumerable<string> texts)
    {
        var builder = new StringBuilder();
        foreach (var text in texts)
        {
            builder.Append(text).Append('\n');
        }

        using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        file.Write(Encoding.UTF8.GetBytes(builder.ToString()));
    }

    /// <summary>Returns the numbers of the complete lines of an output file (a torn last line is not one), in file order.</summary>
    public static List<int> ReadOutput(string path, IReadOnlyDictionary<int, string> input)
    {
        var numbers = new List<int>();
        if (!File.Exists(path))
        {
            return numbers;
        }

        var text = File.ReadAllText(path);
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        foreach (var line in complete.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var number = Number(line);
            Assert.True(input.TryGetValue(number, out var expected) && expected == line, $"The output holds a line that is not an input line: '{line}'.");
            numbers.Add(number);
        }

        return numbers;
    }

    /// <summary>Returns the numbers of the lines in a dead-letter file, in file order; a line torn by the kill is skipped.</summary>
    public static List<int> ReadDeadLetters(string path, IReadOnlyDictionary<int, string> input)
    {
        var numbers = new List<int>();
        if (!File.Exists(path))
        {
            return numbers;
        }

        var torn = 0;
        foreach (var line in File.ReadAllLines(path))
        {
            JsonDocument entry;
            try
            {
                entry = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                // A dead letter torn by the kill while it was written: it never counted, and the restart wrote it again.
                torn++;
                Assert.True(torn <= 1, $"More than one torn dead letter in {path}: the kill tears at most one.");
                continue;
            }

            using var disposing = entry;
            var text = entry.RootElement.GetProperty("item").GetProperty("Text").GetString()!;
            var number = Number(text);
            Assert.True(input.TryGetValue(number, out var expected) && expected == text, $"The dead letters hold a line that is not an input line: '{text}'.");
            numbers.Add(number);
        }

        return numbers;
    }

    /// <summary>
    /// Returns the numbers of the lines the checkpoint says are accounted for: every line of the files before the one it names, and
    /// that file's lines that end at or before its offset. <paramref name="filesOldestFirst"/> are the input files as they are now.
    /// </summary>
    public static HashSet<int> Acknowledged(string checkpointPath, IReadOnlyList<string> filesOldestFirst)
    {
        var acknowledged = new HashSet<int>();
        if (!File.Exists(checkpointPath))
        {
            return acknowledged;
        }

        using var checkpoint = JsonDocument.Parse(File.ReadAllBytes(checkpointPath));
        var offset = checkpoint.RootElement.GetProperty("offset").GetInt64();
        var prefixLength = checkpoint.RootElement.GetProperty("prefixLength").GetInt32();
        var prefixHash = checkpoint.RootElement.GetProperty("prefixHash").GetString();
        foreach (var path in filesOldestFirst)
        {
            var bytes = File.ReadAllBytes(path);
            var matches = bytes.Length >= offset && bytes.Length >= prefixLength
                && Convert.ToHexString(SHA256.HashData(bytes.AsSpan(0, prefixLength))) == prefixHash;
            long end = 0;
            foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n'))
            {
                end += Encoding.UTF8.GetByteCount(line) + 1;
                if (line.Length > 0 && (!matches || end <= offset))
                {
                    acknowledged.Add(Number(line));
                }
            }

            if (matches)
            {
                return acknowledged;
            }
        }

        Assert.Fail($"The checkpoint (offset {offset}) names none of the input files {string.Join(", ", filesOldestFirst)}.");
        return acknowledged;
    }

    private static int Number(string line) => int.Parse(line.AsSpan(0, 6), NumberStyles.None, CultureInfo.InvariantCulture);
}
