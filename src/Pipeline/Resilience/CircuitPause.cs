using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace Pipeline;

/// <summary>
/// Pauses a stage's calls while its circuit breaker is open (<see cref="CircuitOpenBehavior.Pause"/>): a call that fails while the
/// circuit is open — it met the open circuit, or its own failure opened it (also as a failed half-open probe) — waits until the break
/// ends, or until the circuit changes state, and is then made again. Also logs the breaker's transitions.
/// </summary>
/// <remarks>
/// Waiting takes no item and no permit: the worker holds its item (in its <see cref="InFlightSlot{T}"/>, where a shutdown deadline
/// takes it over), so items queue in the handoffs and back-pressure reaches the source. The wait ends on the run's abort token.
/// A wake-up is never lost: a caller reads <see cref="Transition"/> before its call, and every transition completes the task it read.
/// </remarks>
internal sealed class CircuitPause
{
    private readonly CircuitBreakerStateProvider _state;
    private readonly TimeSpan _breakDuration;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _pipelineName;
    private readonly string _stageName;

    /// <summary>Completed (and replaced) at the breaker's next transition: opened, half-opened or closed.</summary>
    private TaskCompletionSource _transition = NewTransition();

    public CircuitPause(CircuitBreakerStateProvider state, TimeSpan breakDuration, TimeProvider timeProvider, ILogger logger, string pipelineName, string stageName)
    {
        _state = state;
        _breakDuration = breakDuration;
        _timeProvider = timeProvider;
        _logger = logger;
        _pipelineName = pipelineName;
        _stageName = stageName;
    }

    /// <summary>A task completed at the breaker's next transition; read it before the call it may have to wait after.</summary>
    public Task Transition => Volatile.Read(ref _transition).Task;

    /// <summary>Called by the breaker when the circuit opens (also again after a failed probe).</summary>
    public ValueTask OnOpened<TResult>(OnCircuitOpenedArguments<TResult> arguments)
    {
        _logger.CircuitOpened(_pipelineName, _stageName, arguments.BreakDuration, arguments.Outcome.Exception?.Message);
        Signal();
        return default;
    }

    /// <summary>Called by the breaker when a probe succeeded and the circuit closed.</summary>
    public ValueTask OnClosed<TResult>(OnCircuitClosedArguments<TResult> arguments)
    {
        _logger.CircuitClosed(_pipelineName, _stageName);
        Signal();
        return default;
    }

    /// <summary>Called by the breaker when the break ended and a probe goes through.</summary>
    public ValueTask OnHalfOpened(OnCircuitHalfOpenedArguments arguments)
    {
        Signal();
        return default;
    }

    /// <summary>Whether a call that threw <paramref name="exception"/> is to be paused and made again rather than failed.</summary>
    public bool ShouldPause(Exception exception) =>
        exception is BrokenCircuitException || _state.CircuitState is CircuitState.Open or CircuitState.HalfOpen or CircuitState.Isolated;

    /// <summary>
    /// Waits until the break that <paramref name="exception"/> met ends (its <see cref="BrokenCircuitException.RetryAfter"/>, at most
    /// the break duration) or until the circuit changes state after <paramref name="transition"/> was read, whichever comes first.
    /// </summary>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> (the run's abort) is cancelled.</exception>
    public async ValueTask WaitAsync(Exception exception, Task transition, CancellationToken cancellationToken)
    {
        if (transition.IsCompleted)
        {
            // The circuit changed since the call began (its own failure opened it): call again, to learn how long it stays open.
            return;
        }

        var wait = exception is BrokenCircuitException { RetryAfter: { } retryAfter } && retryAfter > TimeSpan.Zero && retryAfter < _breakDuration
            ? retryAfter
            : _breakDuration;
        using var delayEnded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(wait, _timeProvider, delayEnded.Token);
        await Task.WhenAny(transition, delay).ConfigureAwait(false);
        delayEnded.Cancel();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static TaskCompletionSource NewTransition() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Signal() => Interlocked.Exchange(ref _transition, NewTransition()).TrySetResult();
}
