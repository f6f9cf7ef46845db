namespace Pipeline;

/// <summary>Whether two paths name the same file through symbolic links: how a checkpoint is matched to its input.</summary>
public sealed partial class FileSource
{
    /// <summary>How many times a path is resolved again, for links whose targets hold links (POSIX's <c>SYMLOOP_MAX</c>); more means a loop.</summary>
    private const int MaxLinkRounds = 40;

    /// <summary>
    /// Returns <paramref name="path"/> as a full path with the symbolic links in it resolved: how a checkpoint tells that a path it
    /// recorded and the source's path name the same file (<c>/var/log/current/access.log</c> where <c>current</c> links to a dated
    /// folder). Close to POSIX <c>realpath(3)</c>, not the same: <c>..</c> is applied to the text before links are followed, a part
    /// that does not exist or a link that cannot be read is kept as written, and links are followed at most 40 rounds deep (a loop
    /// ends there). The file system is read, not changed. Thread-safe.
    /// </summary>
    /// <param name="path">A path, absolute or relative to the current directory.</param>
    /// <returns>The full path, links resolved.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="path"/> is empty or not a valid path (<see cref="System.IO.Path.GetFullPath(string)"/>).</exception>
    internal static string GetRealPath(string path)
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
