using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Pipeline;

/// <summary>
/// The checkpoint of a file source: the acknowledged offset, a fingerprint of the file it belongs to (the hash of its first
/// bytes), so that a restart does not resume a different file at an offset of the old one, and the full path the source reads
/// (kept as configured, so that a followed link re-pointed to a new file keeps its checkpoint), so that one checkpoint file shared
/// by two inputs (the same name in two folders, one a copy of the start of the other) is not taken by the wrong one. Written by atomic write-and-rename: a crash leaves either the old checkpoint or the new one, never
/// half of one.
/// </summary>
/// <param name="Offset">The acknowledged offset, in bytes from the start of the file.</param>
/// <param name="PrefixLength">How many bytes at the start of the file the fingerprint covers, 0 to <see cref="MaxPrefixLength"/>.</param>
/// <param name="PrefixHash">The fingerprint: the SHA-256 of those bytes, as hexadecimal.</param>
/// <param name="Source">The full path the source reads, as configured; <see langword="null"/> in a checkpoint written before it was recorded, which then applies to any path.</param>
internal sealed record FileCheckpoint(long Offset, int PrefixLength, string PrefixHash, string? Source = null)
{
    /// <summary>How many bytes at the start of a file make its fingerprint.</summary>
    public const int MaxPrefixLength = 256;

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Returns the hash of <paramref name="prefix"/>, as stored in a checkpoint.</summary>
    public static string Hash(ReadOnlySpan<byte> prefix) => Convert.ToHexString(SHA256.HashData(prefix));

    /// <summary>Reads the first <paramref name="length"/> bytes (at most) of the file behind <paramref name="handle"/>.</summary>
    public static byte[] ReadPrefix(Microsoft.Win32.SafeHandles.SafeFileHandle handle, int length)
    {
        var buffer = new byte[length];
        var read = 0;
        while (read < length)
        {
            var count = RandomAccess.Read(handle, buffer.AsSpan(read), read);
            if (count == 0)
            {
                break;
            }

            read += count;
        }

        return read == length ? buffer : buffer[..read];
    }

    /// <summary>Returns whether the file behind <paramref name="handle"/> starts with the bytes this checkpoint was taken on.</summary>
    public bool Matches(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        var prefix = ReadPrefix(handle, PrefixLength);
        return prefix.Length == PrefixLength && string.Equals(Hash(prefix), PrefixHash, StringComparison.Ordinal);
    }

    /// <summary>
    /// Returns whether this checkpoint may belong to the input at <paramref name="path"/> (a full path): it names no path, that path,
    /// or a path that resolves to the same file (symbolic links followed, <see cref="FileSource.GetRealPath"/>). A recorded path that
    /// cannot be resolved (not a valid path) names another input.
    /// </summary>
    public bool IsFor(string path)
    {
        if (Source is null || string.Equals(Source, path, StringComparison.Ordinal))
        {
            return true;
        }

        try
        {
            return string.Equals(FileSource.GetRealPath(Source), FileSource.GetRealPath(path), StringComparison.Ordinal);
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Reads the checkpoint at <paramref name="path"/>; <see langword="null"/> when there is none.</summary>
    /// <exception cref="InvalidDataException">Thrown when the file is not a checkpoint.</exception>
    public static FileCheckpoint? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            return new FileCheckpoint(
                root.GetProperty("offset").GetInt64(),
                root.GetProperty("prefixLength").GetInt32(),
                root.GetProperty("prefixHash").GetString() ?? string.Empty,
                root.TryGetProperty("source", out var source) ? source.GetString() : null);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path} is not a checkpoint: {exception.Message}", exception);
        }
    }

    /// <summary>Replaces the checkpoint at <paramref name="path"/> with this one: writes a temporary file beside it, syncs it, renames it over.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="beforeRename">Runs between the write and the rename (a test simulates a crash there).</param>
    public void Write(string path, Action<string>? beforeRename)
    {
        var temporary = path + ".tmp";
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } directory)
        {
            // A checkpoint path in a folder not made yet is the application's to have: made here, like a log folder.
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var file = new FileStream(temporary, options))
        {
            using (var json = new Utf8JsonWriter(file))
            {
                json.WriteStartObject();
                json.WriteNumber("offset", Offset);
                json.WriteNumber("prefixLength", PrefixLength);
                json.WriteString("prefixHash", PrefixHash);
                if (Source is not null)
                {
                    json.WriteString("source", Source);
                }
                json.WriteEndObject();
            }

            file.Flush(flushToDisk: true);
        }

        beforeRename?.Invoke(path);
        File.Move(temporary, path, overwrite: true);
    }

    /// <inheritdoc/>
    public override string ToString() => Offset.ToString(CultureInfo.InvariantCulture);
}
