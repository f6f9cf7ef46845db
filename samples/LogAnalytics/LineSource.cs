using System.Runtime.CompilerServices;
using System.Text;
using Pipeline;

namespace LogAnalytics;

/// <summary>
/// The read stage: yields each line of a file with the byte offset of its first byte (UTF-8, <c>\n</c> or <c>\r\n</c> line ends,
/// empty lines skipped). Stops early when the pipeline is asked to stop. With <paramref name="follow"/>, it waits at the end of the
/// file for more lines until stopped (a last line without its line end is taken only once it is complete) and starts again from
/// the beginning when the file shrinks (truncated in place); rotation by rename is not followed.
/// </summary>
/// <param name="path">The file to read.</param>
/// <param name="follow">Whether to keep reading lines appended to the file until the pipeline stops.</param>
/// <param name="pollInterval">How long to wait at the end of the file before looking again in follow mode.</param>
public sealed class LineSource(string path, bool follow, TimeSpan pollInterval) : ISource<LogLine>
{
    private const int BufferSize = 1 << 16;

    /// <summary>Adds the read stage, named <c>read</c>, to <paramref name="pipeline"/>: the one place that says where lines come from,
    /// so that another source of lines with offsets replaces this file alone.</summary>
    /// <param name="pipeline">The pipeline being declared.</param>
    /// <param name="path">The file to read.</param>
    /// <param name="follow">Whether to keep reading appended lines until the pipeline stops.</param>
    /// <returns>The pipeline, continuing with <see cref="LogLine"/>s.</returns>
    public static PipelineBuilder<LogLine> AddTo(PipelineBuilder pipeline, string path, bool follow)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return pipeline.From("read", new LineSource(path, follow, TimeSpan.FromMilliseconds(200)));
    }

    /// <summary>Gets the full path of the file read.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>Reads the lines.</summary>
    /// <param name="stoppingToken">Cancelled when the pipeline is asked to stop; reading then ends after the current line.</param>
    /// <returns>The lines, in file order.</returns>
    /// <exception cref="FileNotFoundException">Thrown when the file does not exist.</exception>
    public async IAsyncEnumerable<LogLine> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        await using (file.ConfigureAwait(false))
        {
            var buffer = new byte[BufferSize];
            var filled = 0;
            long bufferOffset = 0;
            while (!stoppingToken.IsCancellationRequested)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var read = await file.ReadAsync(buffer.AsMemory(filled), CancellationToken.None).ConfigureAwait(false);
                if (read == 0)
                {
                    if (!follow)
                    {
                        if (Line(buffer, 0, filled, bufferOffset) is { } last)
                        {
                            yield return last;
                        }

                        yield break;
                    }

                    if (file.Length < bufferOffset + filled)
                    {
                        file.Position = 0;
                        bufferOffset = 0;
                        filled = 0;
                        continue;
                    }

                    try
                    {
                        await Task.Delay(pollInterval, stoppingToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        yield break;
                    }

                    continue;
                }

                filled += read;
                var start = 0;
                while (start < filled)
                {
                    var end = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n');
                    if (end < 0)
                    {
                        break;
                    }

                    if (stoppingToken.IsCancellationRequested)
                    {
                        yield break;
                    }

                    if (Line(buffer, start, end, bufferOffset + start) is { } line)
                    {
                        yield return line;
                    }

                    start += end + 1;
                }

                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
                bufferOffset += start;
            }
        }
    }

    /// <summary>Decodes the line of <paramref name="length"/> bytes at <paramref name="start"/>; <see langword="null"/> when it is empty.</summary>
    private LogLine? Line(byte[] buffer, int start, int length, long offset)
    {
        var bytes = buffer.AsSpan(start, length);
        if (bytes.Length > 0 && bytes[^1] == '\r')
        {
            bytes = bytes[..^1];
        }

        return bytes.IsEmpty ? null : new LogLine(Path, offset, Encoding.UTF8.GetString(bytes));
    }
}
