using System.Runtime.CompilerServices;

namespace Pipeline.Primitives;

/// <summary>The condition's lock: acquiring and releasing it through the condition, as Python's <c>Condition</c> allows.</summary>
public sealed partial class Condition
{
    /// <summary>Acquires the condition's lock, blocking the calling thread.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public void Acquire(CancellationToken cancellationToken = default)
    {
        if (_exclusiveLock is not null)
        {
            _exclusiveLock.Acquire(cancellationToken);
        }
        else
        {
            _reentrantLock!.Acquire(cancellationToken);
        }
    }

    /// <summary>Acquires the condition's lock asynchronously.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A task that completes when the lock is held.</returns>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public ValueTask AcquireAsync(CancellationToken cancellationToken = default) =>
        ExclusiveLockForAsync().AcquireAsync(cancellationToken);

    /// <summary>Acquires the condition's lock if it is available, without waiting.</summary>
    /// <returns><see langword="true"/> if the lock was acquired.</returns>
    public bool TryAcquire() => _exclusiveLock?.TryAcquire() ?? _reentrantLock!.TryAcquire();

    /// <summary>Acquires the condition's lock, blocking the calling thread for at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns><see langword="true"/> if the lock was acquired; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public bool TryAcquire(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _exclusiveLock?.TryAcquire(timeout, cancellationToken) ?? _reentrantLock!.TryAcquire(timeout, cancellationToken);

    /// <summary>Acquires the condition's lock asynchronously, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns><see langword="true"/> if the lock was acquired; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public ValueTask<bool> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ExclusiveLockForAsync().TryAcquireAsync(timeout, cancellationToken);

    /// <summary>Releases the condition's lock.</summary>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held (by the calling thread, for a reentrant lock).</exception>
    public void Release()
    {
        if (_exclusiveLock is not null)
        {
            _exclusiveLock.Release();
        }
        else
        {
            _reentrantLock!.Release();
        }
    }

    /// <summary>Acquires the condition's lock and returns a scope that releases it when disposed.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope holding the lock.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public Scope Lock(CancellationToken cancellationToken = default)
    {
        Acquire(cancellationToken);
        return new Scope(this);
    }

    /// <summary>Acquires the condition's lock asynchronously and returns a scope that releases it when disposed.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope holding the lock.</returns>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public ValueTask<Scope> LockAsync(CancellationToken cancellationToken = default)
    {
        var acquire = AcquireAsync(cancellationToken);
        return acquire.IsCompletedSuccessfully ? new ValueTask<Scope>(new Scope(this)) : LockAsyncSlow(acquire);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Scope> LockAsyncSlow(ValueTask acquire)
    {
        await acquire.ConfigureAwait(false);
        return new Scope(this);
    }
}
