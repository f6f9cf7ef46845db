using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

public sealed partial class ExclusiveLock
{
    /// <summary>
    /// Acquires the lock, blocking the calling thread until it is free, without ever being handed the lock while
    /// parked: when woken, the caller takes the lock itself, competing with callers that are already running.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    /// <remarks>
    /// <see cref="Acquire"/> hands the lock to a waiter that has been overtaken for a millisecond, so nobody starves;
    /// until that waiter's thread or continuation runs, the lock is held by a party that is not running. A lock that
    /// is only ever taken with this method and <see cref="TryAcquire()"/> is never in that state: whoever holds it is
    /// running. That is what a short critical section needs when non-blocking callers enter it too (they then wait
    /// at most for a running holder). The price is fairness: a caller of this method keeps its place at the head of
    /// the line but can, in principle, be overtaken indefinitely by running callers; with critical sections of
    /// nanoseconds it is woken again on the next release.
    /// </remarks>
    public void AcquireBarging(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TryAcquire())
        {
            AcquireSlow(Timeouts.Infinite, neverHandOver: true, cancellationToken);
        }
    }

    /// <summary>
    /// Acquires the lock asynchronously without ever being handed the lock while suspended: the asynchronous form of
    /// <see cref="AcquireBarging"/>. When woken, the continuation takes the lock itself once the thread pool runs it,
    /// competing with callers that are already running; until then the lock stays free for them.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A task that completes when the lock is held by the caller; synchronously, without allocating, when the lock is free.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    /// <remarks>See <see cref="AcquireBarging"/>: a lock taken only this way, with <see cref="AcquireBarging"/> and <see cref="TryAcquire()"/>, is only ever held by a running caller.</remarks>
    public ValueTask AcquireBargingAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return TryAcquire() ? default : AcquireAsyncCore(cancellationToken, neverHandOver: true);
    }
}
