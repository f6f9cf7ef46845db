namespace Pipeline;

/// <summary>The name a checkpoint records for its input: the real path, every symbolic link resolved.</summary>
public sealed partial class FileSource
{
    /// <summary>How many times a path is resolved again, for links whose targets hold links; more means a loop.</summary>
    private const int MaxLinkRounds = 8;

    /// <summary>
    /// Returns <paramref name="path"/> as a full path with every symbolic link in it resolved, as POSIX <c>realpath(3)</c> does: the
    /// name a checkpoint records for its input, so that the same file reached through a link (<c>/var/log/current/access.log</c>
    /// where <c>current</c> links to a dated folder) is the same input, while two files of one name in two folders are not.
    /// </summary>
    /// <param name="path">A path, absolute or relative to the current directory.</param>
    /// <returns>The full path, links resolved. A part that does not exist, or a link that cannot be read (no permission, a loop), is
    /// kept as it is written. The file system is read, not changed. Thread-safe.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="path"/> is empty or not a valid path (<see cref="System.IO.Path.GetFullPath(string)"/>).</exception>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="path"/> is <see langword="null"/>.</exception>
    public static string GetRealPath(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        for (var round = 0; round < MaxLinkRounds; round++)
        {
            var resolved = ResolveLinksOnce(full);
            if (string.Equals(resolved, full, StringComparison.Ordinal))
            {
                return resolved;
            }

            full = resolved;
        }

        return full;
    }

    /// <summary>Resolves the links among the parts of <paramref name="full"/>, from the root down, once.</summary>
    private static string ResolveLinksOnce(string full)
    {
        var root = System.IO.Path.GetPathRoot(full) ?? string.Empty;
        var current = root;
        foreach (var part in full[root.Length..].Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = System.IO.Path.Combine(current, part);
            try
            {
                FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
                current = info.LinkTarget is null
                    ? next
                    : System.IO.Path.GetFullPath(info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? next);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                current = next;
            }
        }

        return current;
    }
}
