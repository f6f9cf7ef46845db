using System.Runtime.CompilerServices;
using Polly;

namespace Pipeline;

/// <summary>
/// How many times a stage tried an item, retries included, for its dead letter (<see cref="DeadLetter.Attempts"/>). Failed attempts
/// are counted on the call's <see cref="ResilienceContext"/> (Polly passes one context to every attempt of an execution); a call that
/// fails in the end records the count against the exception it ends with, and the stage takes it (reading and removing it) as it
/// handles that failure, whatever its <c>OnError</c>: an exception instance thrown again later, by this stage or another, carries no
/// count of an earlier call. Nothing is allocated for a call whose first attempt succeeds. One exception instance thrown by two calls
/// failing at the same moment (a cached exception, in parallel workers) may report either call's count.
/// </summary>
internal static class AttemptCount
{
    private static readonly ResiliencePropertyKey<StrongBox<int>> s_failedAttempts = new("Pipeline.FailedAttempts");

    /// <summary>The attempts recorded against an exception that ended a call; its entry goes with the exception.</summary>
    private static readonly ConditionalWeakTable<Exception, StrongBox<int>> s_byException = [];

    /// <summary>Runs one attempt of a call, counting it on <paramref name="context"/> if it fails.</summary>
    public static ValueTask<TResult> Attempt<TState, TResult>(ResilienceContext context, Func<TState, CancellationToken, ValueTask<TResult>> callback, TState state)
    {
        ValueTask<TResult> pending;
        try
        {
            pending = callback(state, context.CancellationToken);
        }
        catch (Exception)
        {
            CountFailure(context);
            throw;
        }

        return pending.IsCompletedSuccessfully ? pending : AwaitAttemptAsync(pending, context);
    }

    /// <summary>Records, against the exception a call ended with, how many of its attempts failed: all of them.</summary>
    public static void Record(Exception exception, ResilienceContext context)
    {
        if (context.Properties.TryGetValue(s_failedAttempts, out var failed))
        {
            s_byException.AddOrUpdate(exception, new StrongBox<int>(Math.Max(failed.Value, 1)));
        }
    }

    /// <summary>Takes how many times the call that ended with <paramref name="exception"/> was tried: 1 unless a resilience pipeline tried it again.</summary>
    public static int Take(Exception exception) => Math.Max(TakeRecorded(exception), 1);

    /// <summary>Takes the attempts recorded against <paramref name="exception"/>: 0 when none were (the call never ran, e.g. an open circuit).</summary>
    public static int TakeRecorded(Exception exception) =>
        s_byException.TryGetValue(exception, out var attempts) && s_byException.Remove(exception) ? attempts.Value : 0;

    /// <summary>Adds the attempts of earlier executions of the same call (before a circuit breaker's pause) to the record of <paramref name="exception"/>.</summary>
    public static void AddEarlier(Exception exception, int earlier) =>
        s_byException.AddOrUpdate(exception, new StrongBox<int>(TakeRecorded(exception) + earlier));

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<TResult> AwaitAttemptAsync<TResult>(ValueTask<TResult> pending, ResilienceContext context)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception)
        {
            CountFailure(context);
            throw;
        }
    }

    private static void CountFailure(ResilienceContext context)
    {
        if (context.Properties.TryGetValue(s_failedAttempts, out var failed))
        {
            failed.Value++;
        }
        else
        {
            context.Properties.Set(s_failedAttempts, new StrongBox<int>(1));
        }
    }
}
