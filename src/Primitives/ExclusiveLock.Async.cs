using System.Runtime.CompilerServices;
using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

public sealed partial class ExclusiveLock
{
    private ValueTask<bool> AcquireAsyncCore(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        var queuedSince = 0L;
        var waiter = EnqueueOrAcquire(isSync: false, ref queuedSince, neverHandOver: false);
        if (waiter is null)
        {
            return new ValueTask<bool>(true);
        }

        waiter.Arm(timeoutMilliseconds, cancellationToken);
        return AwaitTurnAsync(new ValueTask<int>(waiter, waiter.Version), Timeouts.Deadline(timeoutMilliseconds), queuedSince, cancellationToken);
    }

    private ValueTask AcquireAsyncCore(CancellationToken cancellationToken, bool neverHandOver = false)
    {
        var queuedSince = 0L;
        var waiter = EnqueueOrAcquire(isSync: false, ref queuedSince, neverHandOver);
        if (waiter is null)
        {
            return default;
        }

        waiter.Arm(Timeouts.Infinite, cancellationToken);
        return AwaitTurnAsync(new ValueTask<int>(waiter, waiter.Version), queuedSince, neverHandOver, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AwaitTurnAsync(ValueTask<int> wait, long deadline, long queuedSince, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await wait.ConfigureAwait(false);
            if (NextTurn(result, deadline, ref queuedSince, neverHandOver: false, cancellationToken, out var acquired) is not { } next)
            {
                return acquired;
            }

            wait = next;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitTurnAsync(ValueTask<int> wait, long queuedSince, bool neverHandOver, CancellationToken cancellationToken)
    {
        while (NextTurn(await wait.ConfigureAwait(false), long.MaxValue, ref queuedSince, neverHandOver, cancellationToken, out _) is { } next)
        {
            wait = next;
        }
    }

    /// <summary>Acts on the end of one asynchronous wait in line for the lock.</summary>
    /// <param name="result">How the wait ended.</param>
    /// <param name="deadline">When the whole acquisition times out; long.MaxValue for never.</param>
    /// <param name="queuedSince">When the caller first queued; it keeps its place at the head of the line.</param>
    /// <param name="neverHandOver">Whether the caller is only ever woken to take the lock itself (<see cref="AcquireBargingAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the acquisition.</param>
    /// <param name="acquired">Whether the caller holds the lock, when no further wait is returned.</param>
    /// <returns>The next wait, or null when the acquisition is over.</returns>
    private ValueTask<int>? NextTurn(int result, long deadline, ref long queuedSince, bool neverHandOver, CancellationToken cancellationToken, out bool acquired)
    {
        // Handed the lock, timed out, or woken to race for it and won the race.
        acquired = result == HandedOver || (result != Waiter.TimedOutResult && TryAcquire());
        if (acquired || result == Waiter.TimedOutResult)
        {
            return null;
        }

        // A running caller took the lock first. Back to the head of the line.
        var remaining = Timeouts.Remaining(deadline);
        if (remaining == 0)
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var waiter = EnqueueOrAcquire(isSync: false, ref queuedSince, neverHandOver);
        if (waiter is null)
        {
            acquired = true;
            return null;
        }

        waiter.Arm(remaining, cancellationToken);
        return new ValueTask<int>(waiter, waiter.Version);
    }
}
