using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;

namespace LogAnalytics;

/// <summary>What is checked before the pipeline starts, so that a run that cannot write its results fails at once, naming the setting.</summary>
public static partial class LogAnalyticsApp
{
    /// <summary>
    /// Checks that the database at <see cref="LogAnalyticsSettings.StorePath"/> can be written: it is opened as the run would open it
    /// (creating it, its folder and its schema when missing), and a file that SQLite can only open read-only is refused. A path that is a
    /// directory, lies under a file, is not a database or cannot be written is found before any line is read.
    /// </summary>
    /// <param name="storePath">The database, full path.</param>
    /// <returns><see langword="null"/> when it can be written; otherwise why not, naming <c>Store:Path</c>.</returns>
    public static string? CheckStorePath(string storePath)
    {
        ArgumentNullException.ThrowIfNull(storePath);
        if (ShapeProblem($"Store:Path '{storePath}'", storePath, "a database file") is { } problem)
        {
            return problem;
        }

        try
        {
            RequestStore.Open(storePath).Dispose();

            // SQLite opens a file it may not write read-only, without an error; the run would fail at its first batch.
            using var connection = RequestStore.OpenConnection(storePath);
            return SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1
                ? $"Store:Path '{storePath}' cannot be written: the database file is read-only for this process"
                : null;
        }
        catch (Exception exception) when (exception is SqliteException or IOException or UnauthorizedAccessException)
        {
            return $"Store:Path '{storePath}' cannot be opened for writing: {exception.Message}";
        }
    }

    /// <summary>
    /// Checks that dead letters can be written to <paramref name="deadLetterPath"/>, creating nothing: an existing file is opened for
    /// appending; otherwise a probe file is created, and deleted at once, in the nearest folder of its path that exists (the dead-letter
    /// store creates the rest, owner-only, at its first dead letter). A path that cannot be written would otherwise fault the run at its
    /// first malformed line.
    /// </summary>
    /// <param name="deadLetterPath">The dead-letter file, full path.</param>
    /// <returns><see langword="null"/> when it can be written; otherwise why not, naming <see cref="DeadLetterPathKey"/>.</returns>
    public static string? CheckDeadLetterPath(string deadLetterPath) => CheckDeadLetterPath(deadLetterPath, defaultFor: null);

    /// <summary>As <see cref="CheckDeadLetterPath(string)"/>; when <paramref name="defaultFor"/> is set, the file is the default beside that
    /// database (<see cref="DefaultDeadLetterPath"/>), and the reason names <c>Store:Path</c>, the setting the user gave, and how to move
    /// the dead letters elsewhere.</summary>
    /// <param name="deadLetterPath">The dead-letter file, full path.</param>
    /// <param name="defaultFor">The database the file is the default of, or <see langword="null"/> when <see cref="DeadLetterPathKey"/> names it.</param>
    /// <returns><see langword="null"/> when it can be written; otherwise why not.</returns>
    public static string? CheckDeadLetterPath(string deadLetterPath, string? defaultFor)
    {
        ArgumentNullException.ThrowIfNull(deadLetterPath);
        var subject = defaultFor is null
            ? $"{DeadLetterPathKey} '{deadLetterPath}'"
            : $"Store:Path '{defaultFor}': its dead-letter file '{deadLetterPath}' (the default beside the database; set {DeadLetterPathKey} to put it elsewhere)";
        if (ShapeProblem(subject, deadLetterPath, "a file") is { } problem)
        {
            return problem;
        }

        string? folder = null;
        string? probe = null;
        try
        {
            if (File.Exists(deadLetterPath))
            {
                using var existing = new FileStream(deadLetterPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                return null;
            }

            folder = Path.GetDirectoryName(deadLetterPath);
            while (folder is not null && !Directory.Exists(folder))
            {
                folder = Path.GetDirectoryName(folder);
            }

            folder ??= Directory.GetCurrentDirectory();
            probe = Path.Combine(folder, $".{Path.GetFileName(deadLetterPath)}.{Guid.NewGuid():N}.probe");
            using var created = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            if (probe is null)
            {
                return $"{subject} cannot be written: {exception.Message}";
            }

            // The probe's own name means nothing to the user: say which folder refused a new file, and why.
            var why = exception is UnauthorizedAccessException
                ? "permission denied"
                : exception.Message.Replace($" : '{probe}'", string.Empty, StringComparison.Ordinal).Replace(probe, folder, StringComparison.Ordinal);
            return $"{subject} cannot be written: no file can be created in '{folder}' ({why})";
        }
    }

    /// <summary>Says why <paramref name="path"/> (described by <paramref name="subject"/>: the setting and its value) cannot name
    /// <paramref name="what"/>: it is a directory, or one of its folders is a file; <see langword="null"/> when neither.</summary>
    private static string? ShapeProblem(string subject, string path, string what) =>
        Directory.Exists(path) ? $"{subject} is a directory; it must name {what}"
        : FileInThePath(path) is { } file ? $"{subject} cannot be written: '{file}' is a file, not a folder"
        : null;

    /// <summary>Returns the first folder of <paramref name="path"/>'s folders that is a file, if any.</summary>
    private static string? FileInThePath(string path)
    {
        for (var folder = Path.GetDirectoryName(path); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder))
            {
                return folder;
            }

            if (Directory.Exists(folder))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// Checks what this process writes: its own dead-letter file (a consumer's is a file of its own), then, for a process that stores
    /// (role <c>all</c> or <c>consumer</c>), the database; the dead letters first, since checking the database creates it.
    /// <see langword="false"/>, with the reason on the standard error, when one of them cannot be written.
    /// </summary>
    private static async Task<bool> CheckOutputsAsync(LogAnalyticsSettings settings, string? deadLetterPath, bool deadLetterPathIsDefault)
    {
        var problem = (deadLetterPath is null ? null : CheckDeadLetterPath(deadLetterPath, deadLetterPathIsDefault ? settings.StorePath : null))
            ?? (settings.Role == ProcessRole.Producer ? null : CheckStorePath(settings.StorePath));
        if (problem is null)
        {
            return true;
        }

        await Console.Error.WriteLineAsync(problem).ConfigureAwait(false);
        return false;
    }

    /// <summary>Checks that <paramref name="inputPath"/> names a file that exists.</summary>
    /// <param name="inputPath">The input, full path.</param>
    /// <returns><see langword="null"/> when it does; otherwise why not, naming <c>Input:Path</c>.</returns>
    internal static string? CheckInputPath(string inputPath) =>
        File.Exists(inputPath) ? null
        : Directory.Exists(inputPath) ? $"Input:Path '{inputPath}' is a directory; it must name a log file"
        : $"Input:Path '{inputPath}' does not exist";

    /// <summary>Checks the input (or the dead-letter file to replay), generating the default log when it is needed and missing.</summary>
    /// <returns><see langword="false"/> when the run cannot start; the reason is on the standard error.</returns>
    private static async Task<bool> PrepareInputAsync(HostApplicationBuilder builder, LogAnalyticsSettings settings, bool replay, TextWriter output)
    {
        if (settings.Role == ProcessRole.Consumer)
        {
            return true;
        }

        if (replay)
        {
            var deadLetterPath = builder.Configuration[DeadLetterPathKey]!;
            if (!File.Exists(deadLetterPath))
            {
                await Console.Error.WriteLineAsync($"{ReplayDeadLettersSwitch}: no dead-letter file at '{deadLetterPath}' ({DeadLetterPathKey})").ConfigureAwait(false);
                return false;
            }

            await output.WriteLineAsync($"Replaying the dead letters in {deadLetterPath}").ConfigureAwait(false);
        }
        else if (settings.InputPath is null)
        {
            var defaultPath = DefaultInputPath(builder.Environment.ContentRootPath);
            if (!File.Exists(defaultPath))
            {
                await output.WriteLineAsync($"Generating the default log (1,000,000 lines) at {defaultPath} ...").ConfigureAwait(false);
                var watch = Stopwatch.StartNew();
                LogGenerator.EnsureDefault(defaultPath);
                await output.WriteLineAsync($"Generated in {watch.Elapsed.TotalSeconds:N1} s").ConfigureAwait(false);
            }
        }
        else if (CheckInputPath(settings.InputPath) is { } problem)
        {
            await Console.Error.WriteLineAsync(problem).ConfigureAwait(false);
            return false;
        }

        return true;
    }
}
