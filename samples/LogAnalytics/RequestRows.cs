using System.Collections;
using System.Text;

namespace LogAnalytics;

/// <summary>
/// A batch of requests encoded for the <see cref="RequestStore"/>: each row's text columns as UTF-8, its time in Unix seconds, and the
/// batch's per-minute totals, so that <see cref="RequestStore.Write"/> only binds values and steps statements. Encoding is pure
/// computation: the pipeline runs it in the <c>encode</c> stage, on another core than the store's single writer, and a plain loop
/// calls <see cref="RequestStore.Write"/> with a list, which encodes it first (the same work either way).
/// </summary>
/// <remarks>
/// Enumerates as the requests it was made from, in order, so that a batch given up at the store stage is kept (dead-lettered) as
/// the list of its requests. Immutable once made: thread-safe to read, and a batch whose write failed can be written again.
/// </remarks>
public sealed class RequestRows : IReadOnlyList<EnrichedRequest>
{
    /// <summary>The text columns of a row other than <c>source</c>, in the order their bytes are laid out in a row's buffer.</summary>
    internal const int TextColumns = 6;

    /// <summary>Marks a text column whose value is <c>NULL</c> in <see cref="_lengths"/>.</summary>
    internal const int NullLength = -1;

    private readonly IReadOnlyList<EnrichedRequest> _requests;

    /// <summary>Per row, the UTF-8 bytes of <c>client</c>, <c>method</c>, <c>path</c>, <c>route</c>, <c>referer</c>, <c>user_agent</c>, back to back.</summary>
    private readonly byte[][] _text;

    /// <summary>Per row, <see cref="TextColumns"/> byte lengths of the columns in <see cref="_text"/>; <see cref="NullLength"/> for <c>NULL</c>.</summary>
    private readonly int[] _lengths;

    /// <summary>Per row, the UTF-8 bytes of <c>source</c>; rows of one source share one array.</summary>
    private readonly byte[][] _sources;

    private readonly long[] _unixSeconds;

    private RequestRows(IReadOnlyList<EnrichedRequest> requests)
    {
        _requests = requests;
        _text = new byte[requests.Count][];
        _lengths = new int[requests.Count * TextColumns];
        _sources = new byte[requests.Count][];
        _unixSeconds = new long[requests.Count];
        Minutes = [];
    }

    /// <summary>Gets the per-minute totals of every row, keyed by minute (Unix seconds), route template and status.</summary>
    internal Dictionary<MinuteKey, MinuteTotals> Minutes { get; }

    /// <inheritdoc/>
    public int Count => _requests.Count;

    /// <inheritdoc/>
    public EnrichedRequest this[int index] => _requests[index];

    /// <summary>Encodes <paramref name="requests"/> (kept by reference, not copied: do not change the list afterwards).</summary>
    /// <param name="requests">The batch; a <see cref="RequestRows"/> is returned as it is.</param>
    /// <returns>The encoded batch.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="requests"/> is <see langword="null"/>.</exception>
    public static RequestRows Encode(IReadOnlyList<EnrichedRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests is RequestRows encoded)
        {
            return encoded;
        }

        var rows = new RequestRows(requests);
        string? lastSource = null;
        byte[] lastSourceBytes = [];
        for (var row = 0; row < requests.Count; row++)
        {
            var request = requests[row];
            var entry = request.Entry;
            if (!ReferenceEquals(entry.Source, lastSource) && !string.Equals(entry.Source, lastSource, StringComparison.Ordinal))
            {
                lastSource = entry.Source;
                lastSourceBytes = Encoding.UTF8.GetBytes(entry.Source);
            }

            rows._sources[row] = lastSourceBytes;
            rows._text[row] = EncodeText(rows._lengths.AsSpan(row * TextColumns, TextColumns), entry.Client, entry.Method, entry.Path, request.Route, entry.Referer, entry.UserAgent);
            var unixSeconds = entry.Time.ToUnixTimeSeconds();
            rows._unixSeconds[row] = unixSeconds;
            rows.Add(rows.Minutes, row);
        }

        return rows;
    }

    /// <summary>Returns the per-minute totals of every row but those at <paramref name="skippedRows"/> (lines that were stored before).</summary>
    internal Dictionary<MinuteKey, MinuteTotals> MinutesWithout(List<int> skippedRows)
    {
        var minutes = new Dictionary<MinuteKey, MinuteTotals>();
        var skipped = 0;
        for (var row = 0; row < Count; row++)
        {
            if (skipped < skippedRows.Count && skippedRows[skipped] == row)
            {
                skipped++;
                continue;
            }

            Add(minutes, row);
        }

        return minutes;
    }

    /// <summary>Gets row <paramref name="row"/>'s <c>source</c> as UTF-8.</summary>
    internal ReadOnlySpan<byte> Source(int row) => _sources[row];

    /// <summary>Gets row <paramref name="row"/>'s time in Unix seconds.</summary>
    internal long UnixSeconds(int row) => _unixSeconds[row];

    /// <summary>Gets row <paramref name="row"/>'s text columns as UTF-8, back to back (see <see cref="TextLength"/>).</summary>
    internal byte[] Text(int row) => _text[row];

    /// <summary>Gets the byte length of text column <paramref name="column"/> (0 to <see cref="TextColumns"/> - 1) of row <paramref name="row"/>; <see cref="NullLength"/> for <c>NULL</c>.</summary>
    internal int TextLength(int row, int column) => _lengths[(row * TextColumns) + column];

    /// <inheritdoc/>
    public IEnumerator<EnrichedRequest> GetEnumerator() => _requests.GetEnumerator();

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static byte[] EncodeText(Span<int> lengths, params ReadOnlySpan<string?> values)
    {
        var total = 0;
        for (var column = 0; column < values.Length; column++)
        {
            lengths[column] = values[column] is { } value ? Encoding.UTF8.GetByteCount(value) : NullLength;
            total += Math.Max(lengths[column], 0);
        }

        var text = new byte[total];
        var at = 0;
        for (var column = 0; column < values.Length; column++)
        {
            if (values[column] is { } value)
            {
                at += Encoding.UTF8.GetBytes(value, text.AsSpan(at));
            }
        }

        return text;
    }

    private void Add(Dictionary<MinuteKey, MinuteTotals> minutes, int row)
    {
        var request = _requests[row];
        var unixSeconds = _unixSeconds[row];
        var key = new MinuteKey(unixSeconds - (unixSeconds % 60), request.Route, request.Entry.Status);
        var totals = minutes.GetValueOrDefault(key);
        minutes[key] = new MinuteTotals(totals.Requests + 1, totals.Bytes + request.Entry.Bytes, totals.Bots + (request.IsBot ? 1 : 0));
    }

    /// <summary>A row of <c>minute_stats</c>: the minute (Unix seconds, a multiple of 60), route template and status.</summary>
    internal readonly record struct MinuteKey(long Minute, string Route, int Status);

    /// <summary>What a batch adds to one <see cref="MinuteKey"/>.</summary>
    internal readonly record struct MinuteTotals(long Requests, long Bytes, long Bots);
}
