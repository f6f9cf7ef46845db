using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>
/// A reentrant lock owned by the thread that acquired it, like Python's <c>threading.RLock</c>: the owner may
/// acquire it again, and must release it as many times. Blocking only, since a thread owns it. Waiters are
/// served first-in, first-out.
/// </summary>
public sealed class ReentrantLock : ILockReleaser
{
    /// <summary>The lock the owner holds once, whatever its recursion depth.</summary>
    private readonly ExclusiveLock _lock = new();

    /// <summary>Managed thread id of the owner; 0 when not held. Written only by the owner while it holds <see cref="_lock"/>.</summary>
    private int _ownerThreadId;

    /// <summary>How many times the owner holds the lock; touched only by the owner.</summary>
    private int _recursionCount;

    /// <summary>Gets a value indicating whether the calling thread owns the lock.</summary>
    public bool IsHeldByCurrentThread => Volatile.Read(ref _ownerThreadId) == Environment.CurrentManagedThreadId;

    /// <summary>Gets how many times the calling thread holds the lock; 0 when it is not the owner.</summary>
    public int RecursionCount => IsHeldByCurrentThread ? _recursionCount : 0;

    /// <summary>Acquires the lock, blocking the calling thread until it is free or already owned by it.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public void Acquire(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TryReenter())
        {
            _lock.Acquire(cancellationToken);
            TakeOwnership(1);
        }
    }

    /// <summary>Acquires the lock if it is free or already owned by the calling thread, without waiting.</summary>
    /// <returns><see langword="true"/> if the lock is now held by the calling thread one more time.</returns>
    public bool TryAcquire()
    {
        if (TryReenter())
        {
            return true;
        }

        if (!_lock.TryAcquire())
        {
            return false;
        }

        TakeOwnership(1);
        return true;
    }

    /// <summary>Acquires the lock, blocking the calling thread for at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns><see langword="true"/> if the lock was acquired; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public bool TryAcquire(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Timeouts.ToMilliseconds(timeout, nameof(timeout));
        cancellationToken.ThrowIfCancellationRequested();
        if (TryReenter())
        {
            return true;
        }

        if (!_lock.TryAcquire(timeout, cancellationToken))
        {
            return false;
        }

        TakeOwnership(1);
        return true;
    }

    /// <summary>Releases one hold of the lock; the lock is freed when the owner has released every hold.</summary>
    /// <exception cref="SynchronizationLockException">Thrown when the calling thread does not own the lock.</exception>
    public void Release()
    {
        ThrowIfNotOwner();
        if (--_recursionCount == 0)
        {
            Volatile.Write(ref _ownerThreadId, 0);
            _lock.Release();
        }
    }

    /// <summary>Acquires the lock and returns a scope that releases one hold when disposed.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope holding the lock.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the lock is acquired.</exception>
    public Scope Lock(CancellationToken cancellationToken = default)
    {
        Acquire(cancellationToken);
        return new Scope(this);
    }

    /// <summary>Releases every hold of the owner at once, for a condition wait.</summary>
    /// <returns>The recursion count to restore with <see cref="RestoreAll"/>.</returns>
    /// <exception cref="SynchronizationLockException">Thrown when the calling thread does not own the lock.</exception>
    internal int ReleaseAll()
    {
        ThrowIfNotOwner();
        var count = _recursionCount;
        _recursionCount = 0;
        Volatile.Write(ref _ownerThreadId, 0);
        _lock.Release();
        return count;
    }

    /// <summary>Acquires the lock again after <see cref="ReleaseAll"/>, restoring the recursion count; not cancellable.</summary>
    internal void RestoreAll(int recursionCount)
    {
        _lock.Acquire(CancellationToken.None);
        TakeOwnership(recursionCount);
    }

    private bool TryReenter()
    {
        if (!IsHeldByCurrentThread)
        {
            return false;
        }

        if (_recursionCount == int.MaxValue)
        {
            throw new LockRecursionException("The lock is held too many times by the calling thread.");
        }

        _recursionCount++;
        return true;
    }

    private void TakeOwnership(int recursionCount)
    {
        _recursionCount = recursionCount;
        Volatile.Write(ref _ownerThreadId, Environment.CurrentManagedThreadId);
    }

    private void ThrowIfNotOwner()
    {
        if (!IsHeldByCurrentThread)
        {
            throw new SynchronizationLockException("The lock cannot be released: the calling thread does not own it.");
        }
    }
}
