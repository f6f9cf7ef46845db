using Microsoft.Win32.SafeHandles;

namespace Pipeline;

/// <summary>Where a restart resumes: the checkpoint, the file it belongs to, and the offset in it.</summary>
public sealed partial class FileSource
{
    /// <summary>Reads the checkpoint; <see langword="null"/> when there is none, it cannot be read, or it names another input (logged).</summary>
    private FileCheckpoint? ReadCheckpoint()
    {
        try
        {
            var checkpoint = FileCheckpoint.Read(_checkpointPath);
            if (checkpoint is not null && !checkpoint.IsFor(_path))
            {
                _logger.CheckpointOfOtherFile(_path, _checkpointPath, checkpoint.Source!);
                return null;
            }

            return checkpoint;
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            _logger.CheckpointUnreadable(_path, _checkpointPath, exception);
            return null;
        }
    }

    /// <summary>Returns the offset to start <paramref name="file"/> at: the checkpoint's when it applies to this file, else 0.</summary>
    private long ResolveStart(SafeFileHandle file, FileCheckpoint? checkpoint)
    {
        if (checkpoint is null)
        {
            return 0;
        }

        if (Applies(checkpoint, file))
        {
            return checkpoint.Offset;
        }

        _logger.CheckpointNotApplicable(_path, _checkpointPath, checkpoint.Offset);
        return 0;
    }

    private static bool Applies(FileCheckpoint checkpoint, SafeFileHandle file)
        => checkpoint.Offset >= 0 && checkpoint.Offset <= RandomAccess.GetLength(file) && checkpoint.Matches(file);

    /// <summary>
    /// When <paramref name="checkpoint"/> does not apply to the file at the path (or there is none), opens the rotated file it belongs
    /// to: a file beside it whose name starts with the file's name (<c>access.log.1</c>, <c>access.log-20260101</c>), that starts with
    /// the checkpoint's bytes and is at least as long as its offset (the most recently written when several do), with its path. <see langword="null"/>
    /// when the checkpoint applies to the file at the path, or to no rotated file.
    /// </summary>
    /// <remarks>
    /// This recovers one rotation while the source was down (or between its last checkpoint and a crash): the rest of the rotated file
    /// is read, then the file at the path from its start. Lines of a file rotated in between two such rotations are not found.
    /// </remarks>
    private (SafeFileHandle File, string Path)? OpenRotatedCheckpointFile(FileCheckpoint checkpoint)
    {
        using (var current = TryOpen())
        {
            if (current is not null && Applies(checkpoint, current))
            {
                return null;
            }
        }

        var directory = System.IO.Path.GetDirectoryName(_path)!;
        var name = System.IO.Path.GetFileName(_path);
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var candidates = Directory.EnumerateFiles(directory)
            .Where(candidate => System.IO.Path.GetFileName(candidate).StartsWith(name, StringComparison.Ordinal)
                && !string.Equals(candidate, _path, StringComparison.Ordinal)
                && !string.Equals(candidate, _checkpointPath, StringComparison.Ordinal)
                && !string.Equals(candidate, _checkpointPath + ".tmp", StringComparison.Ordinal))
            .OrderByDescending(File.GetLastWriteTimeUtc);
        foreach (var candidate in candidates)
        {
            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(candidate, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Gone since it was listed, or not ours to read: not the checkpoint's file.
                continue;
            }

            if (Applies(checkpoint, handle))
            {
                _logger.CheckpointInRotatedFile(_path, _checkpointPath, candidate, checkpoint.Offset);
                return (handle, candidate);
            }

            handle.Dispose();
        }

        return null;
    }
}
