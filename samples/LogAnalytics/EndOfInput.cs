using System.Globalization;
using StackExchange.Redis;

namespace LogAnalytics;

/// <summary>
/// How consumers that run with <c>ExitWhenDone=true</c> learn that there is nothing more to do: a producer that read its input to the
/// end sets the key <c>&lt;stream&gt;:end-of-input</c> (to <c>"&lt;appended&gt; requests, run &lt;id&gt;, ended &lt;UTC time&gt;"</c>: how many requests it
/// appended, a new id per run, and when it ended, by the Redis server's clock) after every entry is stored in the stream, and deletes it when it starts. A consumer is done once the key is set, the
/// group has been delivered the stream's last entry and nothing is pending in the group (every entry acknowledged — also those of a
/// consumer that died, once a live one has claimed them).
/// </summary>
/// <remarks>
/// A consumer that starts while the key of a run that ended before it started is set, and the group has nothing left, finds a finished
/// run's marker (the README's order starts consumers before the next producer, which clears it): it ignores that marker
/// (<see cref="FindFinishedRunAsync"/>) and ends only at a marker with another value, the next producer's. One producer per stream: a second producer finishing first would end the
/// consumers early. Thread-safe.
/// </remarks>
/// <param name="connection">A connection to the Redis server of the stream; owned by the caller.</param>
/// <param name="stream">The stream's key.</param>
internal sealed class EndOfInput(IConnectionMultiplexer connection, string stream)
{
    /// <summary>How often a consumer looks whether it is done.</summary>
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets the marker's key: <c>&lt;stream&gt;:end-of-input</c>.</summary>
    public string Key { get; } = stream + ":end-of-input";

    /// <summary>Removes the marker: a producer is (again) appending to the stream.</summary>
    /// <returns>A task that completes when Redis has removed it.</returns>
    public Task ClearAsync() => connection.GetDatabase().KeyDeleteAsync(Key);

    /// <summary>Sets the marker: every entry of the producer's input is in the stream.</summary>
    /// <param name="appended">How many requests the producer appended in this run.</param>
    /// <returns>A task that completes when Redis has stored it.</returns>
    public async Task SetAsync(long appended)
    {
        var ended = await ServerTimeAsync().ConfigureAwait(false);
        await connection.GetDatabase().StringSetAsync(Key, string.Create(CultureInfo.InvariantCulture, $"{appended} requests, run {Guid.NewGuid():N}, ended {ended:O}"))
            .ConfigureAwait(false);
    }

    /// <summary>Returns the Redis server's clock (<c>TIME</c>): producers and consumers on different machines compare times on one clock.</summary>
    private async Task<DateTimeOffset> ServerTimeAsync()
    {
        var time = (RedisResult[])(await connection.GetDatabase().ExecuteAsync("TIME").ConfigureAwait(false))!;
        return DateTimeOffset.FromUnixTimeMilliseconds(((long)time[0] * 1000) + ((long)time[1] / 1000));
    }

    /// <summary>
    /// Returns the marker when it is there, its run ended before <paramref name="startedAt"/> and <paramref name="group"/> has nothing
    /// left: a finished run's, which a consumer started after it must not take for the end of the run it joins. A run that ended after
    /// the consumer started is the one it joined (another consumer may have drained the group first). Call it before the consumer
    /// takes any entry.
    /// </summary>
    /// <param name="group">The consumer group.</param>
    /// <param name="startedAt">When the consumer started.</param>
    /// <returns>The finished run's marker, or <see langword="null"/> when there is none (no marker, a run that ended after
    /// <paramref name="startedAt"/>, work left, or no stream or group yet). A marker without its end time counts as ended before.</returns>
    public async Task<string?> FindFinishedRunAsync(string group, DateTimeOffset startedAt)
    {
        try
        {
            var marker = (string?)await connection.GetDatabase().StringGetAsync(Key).ConfigureAwait(false);
            if (marker is null)
            {
                return null;
            }

            // The consumer's start on the server's clock, which stamped the marker: this machine's clock may differ from the producer's.
            var startedOnServer = await ServerTimeAsync().ConfigureAwait(false) - (DateTimeOffset.UtcNow - startedAt);
            return EndedBefore(marker, startedOnServer) && await GroupHasNothingLeftAsync(group).ConfigureAwait(false) ? marker : null;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // No stream or group yet: nothing has run on it.
            return null;
        }
    }

    /// <summary>Returns whether the run of <paramref name="marker"/> ended before <paramref name="time"/>, by the time after its last <c>ended </c>.</summary>
    private static bool EndedBefore(string marker, DateTimeOffset time)
    {
        var at = marker.LastIndexOf("ended ", StringComparison.Ordinal);
        return at < 0
            || !DateTimeOffset.TryParse(marker.AsSpan(at + "ended ".Length), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var ended)
            || ended < time;
    }

    /// <summary>Returns whether the producer is done and <paramref name="group"/> has acknowledged every entry of the stream.</summary>
    /// <param name="group">The consumer group.</param>
    /// <param name="finishedRun">A finished run's marker to ignore (<see cref="FindFinishedRunAsync"/>), or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when nothing is left to do.</returns>
    public async Task<bool> IsDoneAsync(string group, string? finishedRun)
    {
        var marker = (string?)await connection.GetDatabase().StringGetAsync(Key).ConfigureAwait(false);
        return marker is not null && !string.Equals(marker, finishedRun, StringComparison.Ordinal)
            && await GroupHasNothingLeftAsync(group).ConfigureAwait(false);
    }

    /// <summary>Returns whether <paramref name="group"/> has been delivered the stream's last entry and has nothing pending.</summary>
    private async Task<bool> GroupHasNothingLeftAsync(string group)
    {
        var database = connection.GetDatabase();
        var groups = await database.StreamGroupInfoAsync(stream).ConfigureAwait(false);
        var index = Array.FindIndex(groups, info => string.Equals(info.Name, group, StringComparison.Ordinal));
        if (index < 0 || groups[index].PendingMessageCount > 0)
        {
            return false;
        }

        var info = groups[index];

        var streamInfo = await database.StreamInfoAsync(stream).ConfigureAwait(false);
        return streamInfo.Length == 0 || string.Equals(info.LastDeliveredId, streamInfo.LastGeneratedId.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Completes once <see cref="IsDoneAsync"/> returns <see langword="true"/>, looking every 250 milliseconds.</summary>
    /// <param name="group">The consumer group.</param>
    /// <param name="finishedRun">A finished run's marker to ignore, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>A task that completes when the consumers are done.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled first.</exception>
    public async Task WaitUntilDoneAsync(string group, string? finishedRun, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(s_pollInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                if (await IsDoneAsync(group, finishedRun).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // The stream or the group is not there yet, or Redis is briefly unreachable or slow to answer (StackExchange.Redis's
                // RedisTimeoutException is a TimeoutException, not a RedisException): look again at the next tick.
            }
        }
    }
}
