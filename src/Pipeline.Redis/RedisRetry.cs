using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>
/// Runs a Redis operation until it succeeds: a connection error or a timeout pauses the caller (back-pressure to the stage before
/// it) with an exponential backoff from 100 milliseconds to 5 seconds, logged; cancellation ends the wait. Any other exception
/// (a wrong type at the key, a script error) is not retried.
/// </summary>
internal static class RedisRetry
{
    /// <summary>The first pause after a failure.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause between attempts.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>Whether <paramref name="exception"/> is an outage worth waiting out rather than a bug.</summary>
    public static bool IsTransient(Exception exception) =>
        exception is RedisConnectionException or RedisTimeoutException
        || (exception is RedisServerException server && IsTransientServerError(server.Message));

    /// <summary>
    /// Runs <paramref name="operation"/> until it succeeds. The first attempt is made even when <paramref name="cancellationToken"/>
    /// is already cancelled: a stop must not leave half-done what one more round trip finishes (a dead letter stored, not yet
    /// acknowledged); only the waits between attempts observe it.
    /// </summary>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled between attempts.</exception>
    public static async Task<TResult> RunAsync<TResult>(
        Func<Task<TResult>> operation, ILogger logger, string what, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation().ConfigureAwait(false);
            }
            catch (Exception exception) when (IsTransient(exception))
            {
                logger.RedisRetrying(what, attempt, delay, exception);
            }

            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    // LOADING (a restarted server reading its snapshot), BUSY, TRYAGAIN and MASTERDOWN pass; anything else is a real error.
    private static bool IsTransientServerError(string message) =>
        message.StartsWith("LOADING", StringComparison.Ordinal)
        || message.StartsWith("BUSY", StringComparison.Ordinal)
        || message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
        || message.StartsWith("MASTERDOWN", StringComparison.Ordinal);
}
