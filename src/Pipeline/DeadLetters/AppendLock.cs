namespace Pipeline;

/// <summary>
/// The lock that lets several writers — stores of other pipelines in this process, or other processes — append to one dead-letter
/// file: an exclusive lock (<c>flock</c> on Unix, a sharing lock on Windows) on a sidecar file <c>&lt;path&gt;.lock</c>, held while a
/// group of lines is appended at the file's current end. Locks of separate opens exclude each other within one process too.
/// </summary>
internal static class AppendLock
{
    /// <summary>How long a writer waits for another to finish its append before giving up.</summary>
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    /// <summary>Returns the held lock of <paramref name="path"/>; dispose it to release the lock.</summary>
    /// <param name="path">The full path of the file appended to.</param>
    /// <returns>The open lock file.</returns>
    /// <exception cref="IOException">Thrown when the lock stays held by another writer for 30 seconds, or the lock file cannot be opened.</exception>
    public static async Task<FileStream> AcquireAsync(string path)
    {
        var lockPath = path + ".lock";
        var options = OpenOrCreateOwnerOnly(FileShare.None);

        var deadline = DateTime.UtcNow + s_patience;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, options);
            }
            catch (IOException exception) when (exception is not FileNotFoundException and not DirectoryNotFoundException && DateTime.UtcNow < deadline)
            {
                // Held by another writer (a sharing violation): its append takes a write and a flush.
                await Task.Delay(1).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Options to open a file for reading and writing, unbuffered, sharing it as <paramref name="share"/> says, and creating it if
    /// missing readable and writable by its owner only (0600 on Unix).
    /// </summary>
    public static FileStreamOptions OpenOrCreateOwnerOnly(FileShare share)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = share, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }
}
