using System.Diagnostics;
using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>
/// Argument checks and timeout arithmetic shared by every handoff kind: constructor arguments, the timeouts of the
/// blocking members, and how much of a timeout is left.
/// </summary>
internal static class HandoffArguments
{
    /// <summary>Checks the constructor arguments shared by the handoffs, by the rules of <see cref="HandoffOptions.Validate(string)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="capacity"/> or <paramref name="fullMode"/> is outside its allowed values; the message names the argument, the value and the allowed values.</exception>
    public static void ValidateConstructor(int capacity, BoundedChannelFullMode fullMode)
    {
        if (new HandoffOptions { Capacity = capacity }.Validate(nameof(HandoffOptions)) is [var capacityError, ..])
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, capacityError);
        }

        if (new HandoffOptions { FullMode = fullMode }.Validate(nameof(HandoffOptions)) is [var fullModeError, ..])
        {
            throw new ArgumentOutOfRangeException(nameof(fullMode), fullMode, fullModeError);
        }
    }

    /// <summary>Checks the timeout of a blocking member.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public static void ValidateTimeout(TimeSpan timeout)
    {
        // The same bound as the primitives' waits (and the BCL's): a longer finite wait cannot be timed. Checked before anything is
        // taken or parked, so the call fails the same way whether or not it would have had to wait.
        if (timeout != Timeout.InfiniteTimeSpan && (timeout < TimeSpan.Zero || timeout.Ticks > int.MaxValue * TimeSpan.TicksPerMillisecond))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                $"timeout must be Timeout.InfiniteTimeSpan or between TimeSpan.Zero and {int.MaxValue} milliseconds (about 24.8 days), was {timeout}.");
        }
    }

    /// <summary>What is left of <paramref name="timeout"/> since <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp); never negative, infinite stays infinite.</summary>
    public static TimeSpan Remaining(long started, TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return timeout;
        }

        TimeSpan remaining = timeout - Stopwatch.GetElapsedTime(started);
        return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
    }
}
