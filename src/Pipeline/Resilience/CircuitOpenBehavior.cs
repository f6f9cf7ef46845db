namespace Pipeline;

/// <summary>What a stage does with an item whose call meets an open circuit (<see cref="CircuitBreakerSettings.WhenOpen"/>).</summary>
public enum CircuitOpenBehavior
{
    /// <summary>
    /// The stage pauses: the item is not failed, its worker waits until the break ends and calls again (the half-open probe),
    /// items wait in the handoffs and back-pressure reaches the source. Nothing is dead-lettered because a dependency is down.
    /// </summary>
    Pause,

    /// <summary>Polly's fail-fast: the call fails with <c>Polly.CircuitBreaker.BrokenCircuitException</c> and the stage's <c>OnError</c> applies.</summary>
    Fail,
}
