using Microsoft.Extensions.Time.Testing;

namespace Pipeline.Tests;

/// <summary>
/// A fake clock that signals each timer created on it (a retry's delay, a circuit breaker's pause, an
/// acknowledgement's wait), so a test advances time only once something waits on it.
/// </summary>
internal sealed class TimerSignalingTimeProvider : FakeTimeProvider
{
    /// <summary>Released once per timer created: one <c>WaitAsync</c> per timer.</summary>
    public SemaphoreSlim TimerCreated { get; } = new(0);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        TimerCreated.Release();
        return timer;
    }
}
