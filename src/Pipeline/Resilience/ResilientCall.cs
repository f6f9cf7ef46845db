using System.Runtime.CompilerServices;
using Polly;

namespace Pipeline;

/// <summary>
/// A stage's Polly pipeline and, when its circuit breaker pauses the stage, the <see cref="CircuitPause"/> that makes a call met by
/// the open circuit wait and go again. A call that completes at once costs what the Polly pipeline costs; the pause path runs only
/// when a call fails.
/// </summary>
internal sealed class ResilientCall(ResiliencePipeline pipeline, CircuitPause? pause, CancellationToken abortToken)
{
    public ValueTask<TResult> ExecuteAsync<TResult, TState>(Func<TState, CancellationToken, ValueTask<TResult>> callback, TState state, CancellationToken cancellationToken)
    {
        if (pause is null)
        {
            return pipeline.ExecuteAsync(callback, state, cancellationToken);
        }

        var transition = pause.Transition;
        var pending = pipeline.ExecuteAsync(callback, state, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending : PausingAsync(pending, transition, callback, state, cancellationToken);
    }

    public ValueTask ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask> callback, TState state, CancellationToken cancellationToken)
    {
        if (pause is null)
        {
            return pipeline.ExecuteAsync(callback, state, cancellationToken);
        }

        var transition = pause.Transition;
        var pending = pipeline.ExecuteAsync(callback, state, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending : PausingAsync(pending, transition, callback, state, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> PausingAsync<TResult, TState>(
        ValueTask<TResult> pending, Task transition, Func<TState, CancellationToken, ValueTask<TResult>> callback, TState state, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await pending.ConfigureAwait(false);
            }
            catch (Exception exception) when (!abortToken.IsCancellationRequested && pause!.ShouldPause(exception))
            {
                await pause.WaitAsync(exception, transition, abortToken).ConfigureAwait(false);
            }

            transition = pause.Transition;
            pending = pipeline.ExecuteAsync(callback, state, cancellationToken);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PausingAsync<TState>(
        ValueTask pending, Task transition, Func<TState, CancellationToken, ValueTask> callback, TState state, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await pending.ConfigureAwait(false);
                return;
            }
            catch (Exception exception) when (!abortToken.IsCancellationRequested && pause!.ShouldPause(exception))
            {
                await pause.WaitAsync(exception, transition, abortToken).ConfigureAwait(false);
            }

            transition = pause.Transition;
            pending = pipeline.ExecuteAsync(callback, state, cancellationToken);
        }
    }
}
