using Microsoft.Data.Sqlite;

namespace LogAnalytics;

/// <summary>What is checked before the pipeline starts, so that a run that cannot write its results fails at once, naming the setting.</summary>
public static partial class LogAnalyticsApp
{
    /// <summary>
    /// Checks that the database at <see cref="LogAnalyticsSettings.StorePath"/> can be opened for writing (creating it, its directory and
    /// its schema when missing, as the run would): a path that is a directory, lies under a file, is not a database or cannot be written
    /// is found before any line is read.
    /// </summary>
    /// <param name="storePath">The database, full path.</param>
    /// <returns><see langword="null"/> when it can be written; otherwise why not, naming <c>Store:Path</c>.</returns>
    public static string? CheckStorePath(string storePath)
    {
        ArgumentNullException.ThrowIfNull(storePath);
        if (Directory.Exists(storePath))
        {
            return $"Store:Path '{storePath}' is a directory; it must name a database file";
        }

        if (FolderProblem(storePath) is { } folderProblem)
        {
            return $"Store:Path '{storePath}' cannot be written: {folderProblem}";
        }

        try
        {
            RequestStore.Open(storePath).Dispose();
            return null;
        }
        catch (Exception exception) when (exception is SqliteException or IOException or UnauthorizedAccessException)
        {
            return $"Store:Path '{storePath}' cannot be opened for writing: {exception.Message}";
        }
    }

    /// <summary>
    /// Checks that dead letters can be written to <paramref name="deadLetterPath"/>: an existing file is opened for appending, and
    /// otherwise a file is created (and deleted at once) in its directory, which is created when missing. A line that fails
    /// mid-run would otherwise fault the run at its first malformed line.
    /// </summary>
    /// <param name="deadLetterPath">The dead-letter file, full path.</param>
    /// <returns><see langword="null"/> when it can be written; otherwise why not, naming <see cref="DeadLetterPathKey"/>.</returns>
    public static string? CheckDeadLetterPath(string deadLetterPath)
    {
        ArgumentNullException.ThrowIfNull(deadLetterPath);
        if (Directory.Exists(deadLetterPath))
        {
            return $"{DeadLetterPathKey} '{deadLetterPath}' is a directory; it must name a file";
        }

        if (FolderProblem(deadLetterPath) is { } folderProblem)
        {
            return $"{DeadLetterPathKey} '{deadLetterPath}' cannot be written: {folderProblem}";
        }

        try
        {
            var directory = Path.GetDirectoryName(deadLetterPath) ?? Directory.GetCurrentDirectory();
            if (File.Exists(deadLetterPath))
            {
                using var existing = new FileStream(deadLetterPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            }
            else
            {
                var probe = Path.Combine(directory, $".{Path.GetFileName(deadLetterPath)}.{Guid.NewGuid():N}.probe");
                using var created = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            }

            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"{DeadLetterPathKey} '{deadLetterPath}' cannot be written: {exception.Message}";
        }
    }

    /// <summary>Creates the folder of <paramref name="path"/> when missing; <see langword="null"/> when it is there, otherwise why not.</summary>
    private static string? FolderProblem(string path)
    {
        var directory = Path.GetDirectoryName(path);
        if (directory is null)
        {
            return null;
        }

        try
        {
            Directory.CreateDirectory(directory);
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            var file = directory;
            while (file is not null && !File.Exists(file))
            {
                file = Path.GetDirectoryName(file);
            }

            return file is not null
                ? $"'{file}' is a file, not a folder"
                : $"its folder '{directory}' cannot be created ({exception.Message})";
        }
    }

    /// <summary>Checks the outputs of a process that stores (role <c>all</c> or <c>consumer</c>); <see langword="false"/>, with the reason on
    /// the standard error, when one of them cannot be written.</summary>
    private static async Task<bool> CheckOutputsAsync(LogAnalyticsSettings settings, string? deadLetterPath)
    {
        if (settings.Role == ProcessRole.Producer)
        {
            return true;
        }

        var problem = CheckStorePath(settings.StorePath) ?? (deadLetterPath is null ? null : CheckDeadLetterPath(deadLetterPath));
        if (problem is null)
        {
            return true;
        }

        await Console.Error.WriteLineAsync(problem).ConfigureAwait(false);
        return false;
    }
}
