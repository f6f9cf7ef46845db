using System.Runtime.CompilerServices;
using Polly;

namespace Pipeline;

/// <summary>
/// A stage's Polly pipeline — built for the stage's result type <typeparamref name="TResult"/>, or registered with
/// <c>AddResiliencePipeline</c> (untyped) — and, when its circuit breaker pauses the stage, the <see cref="CircuitPause"/> that makes a
/// call met by the open circuit wait and go again. A call that completes at once costs what the Polly pipeline costs; the pause path
/// runs only when a call fails.
/// </summary>
internal sealed class ResilientCall<TResult>(ResiliencePipeline? untyped, ResiliencePipeline<TResult>? typed, CircuitPause? pause, CancellationToken abortToken)
{
    public ValueTask<TResult> ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask<TResult>> callback, TState state, CancellationToken cancellationToken)
    {
        if (pause is null)
        {
            return Run(callback, state, cancellationToken);
        }

        var transition = pause.Transition;
        var pending = Run(callback, state, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending : PausingAsync(pending, transition, callback, state, cancellationToken);
    }

    /// <summary>
    /// One execution of the Polly pipeline, with a context of Polly's pool on which the failed attempts are counted
    /// (<see cref="AttemptCount"/>): a call that fails in the end records on its exception how many times it was tried.
    /// </summary>
    private ValueTask<TResult> Run<TState>(Func<TState, CancellationToken, ValueTask<TResult>> callback, TState state, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        ValueTask<TResult> pending;
        try
        {
            pending = typed is not null
                ? typed.ExecuteAsync(static (context, call) => AttemptCount.Attempt(context, call.callback, call.state), context, (callback, state))
                : untyped!.ExecuteAsync(static (context, call) => AttemptCount.Attempt(context, call.callback, call.state), context, (callback, state));
        }
        catch (Exception exception)
        {
            AttemptCount.Record(exception, context);
            ResilienceContextPool.Shared.Return(context);
            throw;
        }

        if (pending.IsCompletedSuccessfully)
        {
            ResilienceContextPool.Shared.Return(context);
            return pending;
        }

        return EndAsync(pending, context);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<TResult> EndAsync(ValueTask<TResult> pending, ResilienceContext context)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            AttemptCount.Record(exception, context);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> PausingAsync<TState>(
        ValueTask<TResult> pending, Task transition, Func<TState, CancellationToken, ValueTask<TResult>> callback, TState state, CancellationToken cancellationToken)
    {
        // Attempts made before a pause count towards the item's attempts (AttemptCount); calls the open circuit rejected do not.
        var earlier = 0;
        while (true)
        {
            try
            {
                return await pending.ConfigureAwait(false);
            }
            catch (Exception exception) when (!abortToken.IsCancellationRequested && pause!.ShouldPause(exception))
            {
                earlier += AttemptCount.TakeRecorded(exception);
                await pause.WaitAsync(exception, transition, abortToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (earlier > 0)
            {
                AttemptCount.AddEarlier(exception, earlier);
                throw;
            }

            transition = pause.Transition;
            pending = Run(callback, state, cancellationToken);
        }
    }
}

/// <summary>The result of a stage call that has none (a sink's write, a zero-or-more transform's call), for a typed Polly pipeline.</summary>
internal readonly struct CallDone
{
    /// <summary>Completes with a <see cref="CallDone"/> once <paramref name="call"/> has completed; synchronously when it already has.</summary>
    public static ValueTask<CallDone> After(ValueTask call)
    {
        if (call.IsCompletedSuccessfully)
        {
            call.GetAwaiter().GetResult();
            return default;
        }

        return AwaitAsync(call);
    }

    /// <summary>Completes once <paramref name="call"/> has completed, dropping its <see cref="CallDone"/>; synchronously when it already has.</summary>
    public static ValueTask Forget(ValueTask<CallDone> call)
    {
        if (call.IsCompletedSuccessfully)
        {
            _ = call.Result;
            return default;
        }

        return AwaitAsync(call);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitAsync(ValueTask<CallDone> call) => await call.ConfigureAwait(false);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<CallDone> AwaitAsync(ValueTask call)
    {
        await call.ConfigureAwait(false);
        return default;
    }
}
