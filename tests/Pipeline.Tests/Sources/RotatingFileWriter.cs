namespace Pipeline.Tests.Sources;

/// <summary>
/// Appends numbered lines to a followed file and rotates it like logrotate's <c>create</c> mode at given line numbers: renames the
/// file to <c>&lt;path&gt;.1</c>, <c>&lt;path&gt;.2</c>… and appends the next lines to a new file at the path.
/// </summary>
internal sealed class RotatingFileWriter(string path, IReadOnlyDictionary<int, string> lines, IReadOnlyList<int> rotateBefore)
{
    private readonly List<string> _rotated = [];

    /// <summary>Gets how many lines were written: the next line's number.</summary>
    public int Written { get; private set; }

    /// <summary>Gets the files holding the lines written so far, oldest first.</summary>
    public IReadOnlyList<string> Files => File.Exists(path) ? [.. _rotated, path] : [.. _rotated];

    /// <summary>Appends the lines up to (not including) <paramref name="end"/>, rotating before each rotation line on the way.</summary>
    public void WriteUpTo(int end)
    {
        end = Math.Min(end, lines.Count);
        while (Written < end)
        {
            if (rotateBefore.Contains(Written) && File.Exists(path))
            {
                var rotated = $"{path}.{_rotated.Count + 1}";
                File.Move(path, rotated);
                _rotated.Add(rotated);
            }

            var next = rotateBefore.Where(line => line > Written && line < end).DefaultIfEmpty(end).Min();
            CrashRunFiles.Append(path, Enumerable.Range(Written, next - Written).Select(number => lines[number]));
            Written = next;
        }
    }

    /// <summary>Appends the line that tells the worker to stop.</summary>
    public void WriteSentinel(string sentinel) => CrashRunFiles.Append(path, [sentinel]);
}
