namespace Pipeline.Primitives.Internal;

/// <summary>
/// The clock by which a waiter's time in a queue is measured (<see cref="ExclusiveLock"/>'s hand-over bound), in
/// <see cref="Stopwatch"/> ticks. Read only when a caller queues or a release finds waiters, never on a fast path.
/// </summary>
internal static class QueueClock
{
    /// <summary>
    /// When set, the clock of the current thread instead of <see cref="Stopwatch.GetTimestamp"/>: lets a test age a waiter past a
    /// bound by moving its own clock instead of sleeping. Null in production.
    /// </summary>
    [ThreadStatic]
    internal static Func<long>? ThreadOverride;

    /// <summary>Returns the current time, in <see cref="Stopwatch"/> ticks.</summary>
    public static long Now() => ThreadOverride is { } clock ? clock() : Stopwatch.GetTimestamp();
}
