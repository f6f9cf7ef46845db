namespace Pipeline.Primitives.Internal;

/// <summary>Validation and conversion of the <see cref="TimeSpan"/> timeouts every primitive takes.</summary>
internal static class Timeouts
{
    /// <summary>Milliseconds standing for "wait forever".</summary>
    public const long Infinite = -1;

    /// <summary>
    /// Converts <paramref name="timeout"/> to whole milliseconds, rounding a positive fraction up so that a
    /// sub-millisecond timeout still waits. Returns <see cref="Infinite"/> for <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Any other negative value, or more than <see cref="int.MaxValue"/> milliseconds.</exception>
    public static long ToMilliseconds(TimeSpan timeout, string paramName)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Infinite;
        }

        if (timeout < TimeSpan.Zero || timeout.Ticks > int.MaxValue * TimeSpan.TicksPerMillisecond)
        {
            throw new ArgumentOutOfRangeException(paramName, timeout,
                $"{paramName} must be Timeout.InfiniteTimeSpan or between TimeSpan.Zero and {int.MaxValue} milliseconds, was {timeout}.");
        }

        return (timeout.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
    }

    /// <summary>The <see cref="Environment.TickCount64"/> at which a wait of <paramref name="milliseconds"/> ends.</summary>
    public static long Deadline(long milliseconds) =>
        milliseconds == Infinite ? long.MaxValue : Environment.TickCount64 + milliseconds;

    /// <summary>Milliseconds left until <paramref name="deadline"/>: <see cref="Infinite"/> for none, otherwise at least 0.</summary>
    public static long Remaining(long deadline) =>
        deadline == long.MaxValue ? Infinite : Math.Max(0, deadline - Environment.TickCount64);
}
