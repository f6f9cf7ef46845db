namespace Pipeline;

/// <summary>Runs a transform through the stage's resilience pipeline.</summary>
internal sealed class ResilientTransform<TIn, TOut>(ITransform<TIn, TOut> inner, ResilientCall<TOut> resilience) : ITransform<TIn, TOut>
{
    public ValueTask<TOut> TransformAsync(TIn item, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync(
            static (state, token) => Abandoning.OnCancel(state.inner.TransformAsync(state.item, token), token),
            (inner, item),
            cancellationToken);
}

/// <summary>Runs a zero-or-more transform through the stage's resilience pipeline; each attempt writes to its own list, copied out on success.</summary>
internal sealed class ResilientManyTransform<TIn, TOut>(IManyTransform<TIn, TOut> inner, ResilientCall<CallDone> resilience) : IManyTransform<TIn, TOut>
{
    public ValueTask TransformAsync(TIn item, ICollection<TOut> output, CancellationToken cancellationToken) => CallDone.Forget(
        resilience.ExecuteAsync(
            static async (state, token) =>
            {
                // An abandoned attempt may still be adding to its list: it must not be the output, nor the next attempt's.
                var attempt = new List<TOut>();
                await Abandoning.OnCancel(state.inner.TransformAsync(state.item, attempt, token), token).ConfigureAwait(false);
                foreach (var result in attempt)
                {
                    state.output.Add(result);
                }

                return default(CallDone);
            },
            (inner, item, output),
            cancellationToken));
}

/// <summary>Runs a sink through the stage's resilience pipeline.</summary>
internal sealed class ResilientSink<T>(ISink<T> inner, ResilientCall<CallDone> resilience) : ISink<T>
{
    public ValueTask WriteAsync(T item, CancellationToken cancellationToken) => CallDone.Forget(
        resilience.ExecuteAsync(
            static (state, token) => CallDone.After(Abandoning.OnCancel(state.inner.WriteAsync(state.item, token), token)),
            (inner, item),
            cancellationToken));
}

/// <summary>
/// Ends the wait for a call of stage code when its token is cancelled (an attempt's timeout, or the run's abort), even if the call
/// ignores its token: the call is abandoned (it may still be running) and its late result is discarded.
/// </summary>
internal static class Abandoning
{
    public static ValueTask<T> OnCancel<T>(ValueTask<T> call, CancellationToken token) =>
        call.IsCompleted || !token.CanBeCanceled ? call : new ValueTask<T>(call.AsTask().WaitAsync(token));

    public static ValueTask OnCancel(ValueTask call, CancellationToken token) =>
        call.IsCompleted || !token.CanBeCanceled ? call : new ValueTask(call.AsTask().WaitAsync(token));
}
