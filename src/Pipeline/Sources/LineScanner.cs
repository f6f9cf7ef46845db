using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Pipeline;

/// <summary>
/// Splits a file into lines by scanning a reused byte buffer for <c>'\n'</c>: no allocation per line, and the caller decodes
/// only the bytes it needs. Tracks each line's byte offsets in the file. Not thread-safe.
/// </summary>
internal sealed class LineScanner
{
    private const int DefaultBufferSize = 64 * 1024;

    private readonly SafeFileHandle _file;

    /// <summary>The file offset the next read starts at.</summary>
    private long _readOffset;

    /// <summary>The bytes read and not yet taken are <c>_buffer[_start.._end]</c>.</summary>
    private byte[] _buffer;

    /// <summary>Index in <see cref="_buffer"/> of the first byte not yet taken.</summary>
    private int _start;

    /// <summary>Index in <see cref="_buffer"/> after the last byte read.</summary>
    private int _end;

    /// <summary>Where in <see cref="_buffer"/> the search for the next <c>'\n'</c> resumes; bytes before it hold none.</summary>
    private int _searched;

    /// <summary>The file offset of <c>_buffer[_start]</c>.</summary>
    private long _offset;

    /// <summary>Initializes a scanner that reads <paramref name="file"/> from <paramref name="offset"/>.</summary>
    public LineScanner(SafeFileHandle file, long offset, int bufferSize = DefaultBufferSize)
    {
        _file = file;
        _offset = _readOffset = offset;
        _buffer = new byte[bufferSize];
    }

    /// <summary>Gets the file offset after the last line taken: where the next line starts.</summary>
    public long Offset => _offset;

    /// <summary>Gets how many bytes were read after the last line taken (a line without its newline, so far).</summary>
    public int PendingLength => _end - _start;

    /// <summary>Takes the next complete line, its <c>'\n'</c> (and a <c>'\r'</c> before it) not included.</summary>
    /// <param name="line">The line's bytes; valid until the next call to <see cref="FillAsync"/>.</param>
    /// <param name="startOffset">The file offset of the line's first byte.</param>
    /// <returns><see langword="false"/> when no complete line is buffered.</returns>
    public bool TryTakeLine(out ReadOnlySpan<byte> line, out long startOffset)
    {
        var index = _buffer.AsSpan(_searched, _end - _searched).IndexOf((byte)'\n');
        if (index < 0)
        {
            _searched = _end;
            line = default;
            startOffset = _offset;
            return false;
        }

        var newline = _searched + index;
        var length = newline - _start;
        if (length > 0 && _buffer[newline - 1] == (byte)'\r')
        {
            length--;
        }

        line = _buffer.AsSpan(_start, length);
        startOffset = _offset;
        _offset += newline + 1 - _start;
        _start = _searched = newline + 1;
        return true;
    }

    /// <summary>Takes the bytes after the last complete line as the final line (a file's last line without its newline).</summary>
    /// <returns><see langword="false"/> when there are none.</returns>
    public bool TryTakeRemainder(out ReadOnlySpan<byte> line, out long startOffset)
    {
        startOffset = _offset;
        if (_end == _start)
        {
            line = default;
            return false;
        }

        var length = _end - _start;
        if (_buffer[_end - 1] == (byte)'\r')
        {
            length--;
        }

        line = _buffer.AsSpan(_start, length);
        _offset += _end - _start;
        _start = _searched = _end;
        return true;
    }

    /// <summary>Reads more bytes from the file; returns <see langword="false"/> at its end (for now: a followed file may grow).</summary>
    public async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Keep the line in progress at the front of the buffer.
            var pending = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            _searched -= _start;
            _start = 0;
            _end = pending;
        }

        if (_end == _buffer.Length)
        {
            // One line longer than the buffer.
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        // Positional reads: each looks at the file's current length, so a followed file's appended bytes are seen.
        var read = await RandomAccess.ReadAsync(_file, _buffer.AsMemory(_end), _readOffset, cancellationToken).ConfigureAwait(false);
        _readOffset += read;
        _end += read;
        Debug.Assert(_start <= _searched && _searched <= _end, "The search point lies in the unread bytes.");
        return read > 0;
    }

    /// <summary>Drops everything buffered and continues reading at <paramref name="offset"/> (after a truncation).</summary>
    public void Reset(long offset)
    {
        _start = _end = _searched = 0;
        _offset = _readOffset = offset;
    }
}
