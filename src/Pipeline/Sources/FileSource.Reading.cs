using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Pipeline;

/// <summary>Reads lines, follows appends, rotation and truncation.</summary>
public sealed partial class FileSource
{
    private async IAsyncEnumerable<PositionedItem<FileLine>> ReadLinesAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        using var watch = _follow ? new ChangeWatch(this) : null;
        var checkpoint = ReadCheckpoint();
        long @base = 0;
        byte[]? previousPrefix = null;
        ResumedRotatedPath = null;
        if (checkpoint is not null && OpenRotatedCheckpointFile(checkpoint) is ({ } rotated, var rotatedPath))
        {
            ResumedRotatedPath = rotatedPath;
            // The checkpoint's file was rotated away while the source was down: it is final, finish it before the file at the path.
            var rotatedSegment = StartSegment(0, rotated, previousPrefix: null);
            var rotatedScanner = new LineScanner(rotated, checkpoint.Offset);
            try
            {
                do
                {
                    while (TryTake(rotatedScanner, 0, remainder: false, out var item))
                    {
                        yield return item;
                        if (stoppingToken.IsCancellationRequested)
                        {
                            yield break;
                        }
                    }
                }
                while (await rotatedScanner.FillAsync(CancellationToken.None).ConfigureAwait(false));

                if (TryTake(rotatedScanner, 0, remainder: true, out var last))
                {
                    yield return last;
                }

                @base = rotatedScanner.Offset;
                previousPrefix = FileCheckpoint.ReadPrefix(rotated, FileCheckpoint.MaxPrefixLength);
            }
            finally
            {
                FreezeSegment(rotatedSegment);
                rotated.Dispose();
            }

            // Everything in the file at the path came after the rotation.
            checkpoint = null;
        }

        var file = await OpenAsync(watch, stoppingToken).ConfigureAwait(false);
        if (file is null)
        {
            yield break;
        }

        var segment = StartSegment(@base, file, previousPrefix);
        var scanner = new LineScanner(file, ResolveStart(file, checkpoint));

        // The head of the file as last seen at its end (following only): a file truncated and written again past the length read
        // (logrotate's copytruncate with a busy writer) is told by its head, not by its length.
        byte[]? head = null;

        // When the path was first seen naming a new file while the old one had nothing more to read (0: not seen): the old file is
        // left only once it has had no new bytes for a poll interval, as its writer may append to it until it reopens the path.
        long rotationQuietSince = 0;

        // The file the path named when the rotation was first seen, kept open through the grace: the one read next, even if the
        // path is rotated again meanwhile (then the path's newer file is noticed as a rotation of this one).
        SafeFileHandle? rotatedTo = null;
        try
        {
            while (true)
            {
                while (TryTake(scanner, segment.Base, remainder: false, out var item))
                {
                    yield return item;
                    if (stoppingToken.IsCancellationRequested)
                    {
                        yield break;
                    }
                }

                // Local reads are short: not cancelled, so a line is never cut by a stop.
                if (await scanner.FillAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    // New bytes: a renamed file's writer is still at it, so its quiet starts again (the file it was renamed to stays
                    // the one read next).
                    rotationQuietSince = 0;
                    if (watch is not null)
                    {
                        // Following: bytes read past an earlier end belong to this file only if its head is still the one read.
                        if (head is { Length: > 0 } && !FileCheckpoint.ReadPrefix(file, head.Length).AsSpan().SequenceEqual(head))
                        {
                            _logger.FileTruncated(_path, RandomAccess.GetLength(file), scanner.Offset + scanner.PendingLength);
                            var rewrittenBase = segment.Base + scanner.Offset;
                            scanner.Reset(0);
                            segment = StartSegment(rewrittenBase, file, previousPrefix: null);
                            head = null;
                            continue;
                        }

                        if ((head?.Length ?? 0) < FileCheckpoint.MaxPrefixLength)
                        {
                            head = FileCheckpoint.ReadPrefix(file, (int)Math.Min(scanner.Offset + scanner.PendingLength, FileCheckpoint.MaxPrefixLength));
                        }
                    }

                    continue;
                }

                if (watch is null)
                {
                    // Not following: the file is final, its last line too.
                    if (TryTake(scanner, segment.Base, remainder: true, out var last))
                    {
                        yield return last;
                    }

                    yield break;
                }

                var changed = watch.Arm();
                var length = RandomAccess.GetLength(file);
                var read = scanner.Offset + scanner.PendingLength;
                var rewritten = head is { Length: > 0 } && !FileCheckpoint.ReadPrefix(file, head.Length).AsSpan().SequenceEqual(head);
                if (length < read || rewritten)
                {
                    _logger.FileTruncated( _path, length, read);
                    var truncatedBase = segment.Base + scanner.Offset;
                    scanner.Reset(0);
                    segment = StartSegment(truncatedBase, file, previousPrefix: null);
                    head = null;
                    continue;
                }

                if (length > read)
                {
                    continue;
                }

                if ((rotatedTo ?? OpenIfRotated(file)) is { } next)
                {
                    // Renamed away (logrotate's default): the writer appends to the old file until it reopens the path (nginx between
                    // the rename and its USR1). Keep reading it until it has been quiet for a poll interval, then move on.
                    if (rotationQuietSince == 0)
                    {
                        rotationQuietSince = _timeProvider.GetTimestamp();
                        if (rotatedTo is null)
                        {
                            _logger.FileRotationSeen(_path, _pollInterval);
                        }
                    }

                    if (_timeProvider.GetElapsedTime(rotationQuietSince) < _pollInterval)
                    {
                        rotatedTo = next;
                        if (!await watch.WaitAsync(changed, stoppingToken).ConfigureAwait(false))
                        {
                            yield break;
                        }

                        continue;
                    }

                    // The file the rotation led to becomes the one read (below), so it is no longer held apart.
                    rotationQuietSince = 0;
                    rotatedTo = null;

                    // Finish the old file first: what was appended before the rotation, and its last line even without a line break.
                    while (await scanner.FillAsync(CancellationToken.None).ConfigureAwait(false))
                    {
                        while (TryTake(scanner, segment.Base, remainder: false, out var item))
                        {
                            yield return item;
                        }
                    }

                    if (TryTake(scanner, segment.Base, remainder: true, out var last))
                    {
                        yield return last;
                    }

                    _logger.FileRotated( _path);
                    var rotatedPrefix = FileCheckpoint.ReadPrefix(file, FileCheckpoint.MaxPrefixLength);
                    segment = StartSegment(segment.Base + scanner.Offset, next, rotatedPrefix);
                    file.Dispose();
                    file = next;
                    scanner = new LineScanner(file, 0);
                    head = null;
                    continue;
                }

                if (!await watch.WaitAsync(changed, stoppingToken).ConfigureAwait(false))
                {
                    yield break;
                }
            }
        }
        finally
        {
            FreezeSegment(segment);
            file.Dispose();
            rotatedTo?.Dispose();
        }
    }

    /// <summary>Opens the file; when following, waits for it to exist. <see langword="null"/> when stopped first.</summary>
    private async ValueTask<SafeFileHandle?> OpenAsync(ChangeWatch? watch, CancellationToken stoppingToken)
    {
        while (true)
        {
            var changed = watch?.Arm();
            if (TryOpen() is { } file)
            {
                return file;
            }

            if (watch is null)
            {
                throw new FileNotFoundException($"The file source's file {_path} does not exist.", _path);
            }

            if (!await watch.WaitAsync(changed!, stoppingToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    private SafeFileHandle? TryOpen()
    {
        try
        {
            return File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Opens the file the path names now if it is not <paramref name="current"/>: shorter, or starting with other bytes.</summary>
    private SafeFileHandle? OpenIfRotated(SafeFileHandle current)
    {
        if (TryOpen() is not { } candidate)
        {
            // Renamed away and not created again yet: the old file may still be written to.
            return null;
        }

        var currentLength = RandomAccess.GetLength(current);
        var candidateLength = RandomAccess.GetLength(candidate);
        var compared = (int)Math.Min(FileCheckpoint.MaxPrefixLength, Math.Min(currentLength, candidateLength));
        if (candidateLength < currentLength
            || !FileCheckpoint.ReadPrefix(current, compared).AsSpan().SequenceEqual(FileCheckpoint.ReadPrefix(candidate, compared)))
        {
            return candidate;
        }

        candidate.Dispose();
        return null;
    }

    private static bool TryTake(LineScanner scanner, long @base, bool remainder, out PositionedItem<FileLine> item)
    {
        ReadOnlySpan<byte> line;
        long start;
        if (!(remainder ? scanner.TryTakeRemainder(out line, out start) : scanner.TryTakeLine(out line, out start)))
        {
            item = default;
            return false;
        }

        if (start == 0 && line.StartsWith(Encoding.UTF8.Preamble))
        {
            line = line[Encoding.UTF8.Preamble.Length..];
        }

        var end = scanner.Offset;
        item = new PositionedItem<FileLine>(new FileLine(Encoding.UTF8.GetString(line), start, end), @base + end);
        return true;
    }
}
