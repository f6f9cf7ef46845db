using System.Runtime.CompilerServices;
using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

public sealed partial class Condition
{
    private ValueTask<bool> WaitCoreAsync(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        var exclusiveLock = ExclusiveLockForAsync();
        ThrowIfLockNotHeld("wait on");
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (timeoutMilliseconds == 0)
        {
            return new ValueTask<bool>(false);
        }

        Waiter waiter;
        lock (_waiters.Sync)
        {
            waiter = _waiters.Enqueue(isSync: false);
        }

        exclusiveLock.Release();
        waiter.Arm(timeoutMilliseconds, cancellationToken);
        return AwaitThenReacquire(new ValueTask<bool>(waiter, waiter.Version), exclusiveLock);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> AwaitThenReacquire(ValueTask<bool> wait, ExclusiveLock exclusiveLock)
    {
        try
        {
            return await wait.ConfigureAwait(false);
        }
        finally
        {
            // Every exit holds the lock again, cancellation included; this acquisition cannot be cancelled.
            await exclusiveLock.AcquireAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitForAsyncSlow(Func<bool> predicate, long deadline, CancellationToken cancellationToken)
    {
        bool result;
        do
        {
            var remaining = Timeouts.Remaining(deadline);
            if (remaining == 0)
            {
                return false;
            }

            await WaitCoreAsync(remaining, cancellationToken).ConfigureAwait(false);
            result = predicate();
        }
        while (!result);

        return result;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask DiscardResult(ValueTask<bool> wait) => await wait.ConfigureAwait(false);
}
