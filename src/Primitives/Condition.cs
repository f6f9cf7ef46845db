using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>
/// A condition variable bound to a lock, like Python's <c>threading.Condition</c>: callers holding the lock wait
/// until another holder notifies them. Built on an <see cref="ExclusiveLock"/> (the default; blocking and
/// asynchronous waits) or on a <see cref="ReentrantLock"/> (blocking waits only).
/// </summary>
/// <remarks>
/// The lock MUST be held when calling <c>Wait</c>, <c>WaitFor</c>, <see cref="Notify"/> and
/// <see cref="NotifyAll"/>, and it is held again whenever a wait returns or throws: notified, timed out or
/// cancelled. Waiters are woken first-in, first-out; a notification with no waiter is not remembered. A
/// notification is never lost to a waiter that times out or is cancelled at the same moment: either that waiter
/// counts as notified and returns normally, or the notification goes to the next waiter.
/// </remarks>
public sealed partial class Condition : ILockReleaser
{
    /// <summary>The lock, when the condition is built on an exclusive lock; otherwise null.</summary>
    private readonly ExclusiveLock? _exclusiveLock;

    /// <summary>The lock, when the condition is built on a reentrant lock; otherwise null.</summary>
    private readonly ReentrantLock? _reentrantLock;

    /// <summary>Waiting callers, oldest first.</summary>
    private readonly WaitQueue _waiters = new(owner: null);

    /// <summary>Initializes a new instance with a new <see cref="ExclusiveLock"/>.</summary>
    public Condition()
        : this(new ExclusiveLock())
    {
    }

    /// <summary>Initializes a new instance bound to <paramref name="lock"/>; blocking and asynchronous waits are available.</summary>
    /// <param name="lock">The lock that guards the state the condition is about.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="lock"/> is <see langword="null"/>.</exception>
    public Condition(ExclusiveLock @lock)
    {
        ArgumentNullException.ThrowIfNull(@lock);
        _exclusiveLock = @lock;
    }

    /// <summary>Initializes a new instance bound to <paramref name="lock"/>; only blocking waits are available, since a thread owns the lock.</summary>
    /// <param name="lock">The lock that guards the state the condition is about.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="lock"/> is <see langword="null"/>.</exception>
    public Condition(ReentrantLock @lock)
    {
        ArgumentNullException.ThrowIfNull(@lock);
        _reentrantLock = @lock;
    }

    /// <summary>Releases the lock, blocks until notified, and acquires the lock again.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is held again when the exception is thrown.</param>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a notification arrives.</exception>
    public void Wait(CancellationToken cancellationToken = default) => WaitCore(Timeouts.Infinite, cancellationToken);

    /// <summary>Releases the lock, blocks until notified or until <paramref name="timeout"/> passes, and acquires the lock again.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is held again when the exception is thrown.</param>
    /// <returns><see langword="true"/> if notified; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a notification arrives.</exception>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitCore(Timeouts.ToMilliseconds(timeout, nameof(timeout)), cancellationToken);

    /// <summary>Releases the lock, waits asynchronously until notified, and acquires the lock again.</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is held again when the exception is thrown.</param>
    /// <returns>A task that completes, with the lock held, once notified.</returns>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a notification arrives.</exception>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        var wait = WaitCoreAsync(Timeouts.Infinite, cancellationToken);
        if (wait.IsCompletedSuccessfully)
        {
            return default;
        }

        return DiscardResult(wait);
    }

    /// <summary>Releases the lock, waits asynchronously until notified or until <paramref name="timeout"/> passes, and acquires the lock again.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is held again when the exception is thrown.</param>
    /// <returns><see langword="true"/> if notified; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before a notification arrives.</exception>
    public ValueTask<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitCoreAsync(Timeouts.ToMilliseconds(timeout, nameof(timeout)), cancellationToken);

    /// <summary>Waits until <paramref name="predicate"/> returns <see langword="true"/>, evaluating it with the lock held, first at once and then after each notification.</summary>
    /// <param name="predicate">The condition awaited; evaluated while holding the lock.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is held again when the exception is thrown.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="predicate"/> is <see langword="null"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the predicate holds.</exception>
    public void WaitFor(Func<bool> predicate, CancellationToken cancellationToken = default) =>
        WaitForCore(predicate, Timeouts.Infinite, cancellationToken);

    /// <summary>Waits until <paramref name="predicate"/> returns <see langword="true"/> or <paramref name="timeout"/> passes, evaluating it with the lock held.</summary>
    /// <param name="predicate">The condition awaited; evaluated while holding the lock.</param>
    /// <param name="timeout">How long to wait in all: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> evaluates once.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is held again when the exception is thrown.</param>
    /// <returns>The predicate's last value.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="predicate"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the predicate holds.</exception>
    public bool WaitFor(Func<bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitForCore(predicate, Timeouts.ToMilliseconds(timeout, nameof(timeout)), cancellationToken);

    /// <summary>Waits asynchronously until <paramref name="predicate"/> returns <see langword="true"/>, evaluating it with the lock held.</summary>
    /// <param name="predicate">The condition awaited; evaluated while holding the lock.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is held again when the exception is thrown.</param>
    /// <returns>A task that completes, with the lock held, once the predicate holds.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="predicate"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the predicate holds.</exception>
    public ValueTask WaitForAsync(Func<bool> predicate, CancellationToken cancellationToken = default)
    {
        var wait = WaitForAsync(predicate, Timeout.InfiniteTimeSpan, cancellationToken);
        return wait.IsCompletedSuccessfully ? default : DiscardResult(wait);
    }

    /// <summary>Waits asynchronously until <paramref name="predicate"/> returns <see langword="true"/> or <paramref name="timeout"/> passes.</summary>
    /// <param name="predicate">The condition awaited; evaluated while holding the lock.</param>
    /// <param name="timeout">How long to wait in all: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> evaluates once.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is held again when the exception is thrown.</param>
    /// <returns>The predicate's last value.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="predicate"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the condition is built on a <see cref="ReentrantLock"/>.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the predicate holds.</exception>
    public ValueTask<bool> WaitForAsync(Func<bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        ExclusiveLockForAsync();
        ThrowIfLockNotHeld("wait on");
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        var result = predicate();
        if (result || milliseconds == 0)
        {
            return new ValueTask<bool>(result);
        }

        return WaitForAsyncSlow(predicate, Timeouts.Deadline(milliseconds), cancellationToken);
    }

    /// <summary>Wakes up to <paramref name="count"/> waiters, oldest first. Does nothing when none waits.</summary>
    /// <param name="count">How many waiters to wake; 0 wakes none.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="count"/> is negative.</exception>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    public void Notify(int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ThrowIfLockNotHeld("notify");

        // Waiters join the queue while holding the lock, as the caller does now: a zero count is exact.
        if (count == 0 || _waiters.Count == 0)
        {
            return;
        }

        var release = default(WaiterList);
        lock (_waiters.Sync)
        {
            _waiters.GrantMany(count, ref release);
        }

        release.SignalAll();
    }

    /// <summary>Wakes every waiter.</summary>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is not held.</exception>
    public void NotifyAll() => Notify(int.MaxValue);

    private bool WaitCore(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        ThrowIfLockNotHeld("wait on");
        cancellationToken.ThrowIfCancellationRequested();
        if (timeoutMilliseconds == 0)
        {
            return false;
        }

        Waiter waiter;
        lock (_waiters.Sync)
        {
            waiter = _waiters.Enqueue(isSync: true);
        }

        // Queued before the lock is released, so a notifier, who must hold the lock, cannot miss this waiter.
        var recursionCount = ReleaseLockForWait();
        try
        {
            waiter.Arm(Timeouts.Infinite, cancellationToken);
            return waiter.WaitSync(timeoutMilliseconds) != Waiter.TimedOutResult;
        }
        finally
        {
            ReacquireLockAfterWait(recursionCount);
        }
    }

    private bool WaitForCore(Func<bool> predicate, long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ThrowIfLockNotHeld("wait on");
        var deadline = Timeouts.Deadline(timeoutMilliseconds);
        var result = predicate();
        while (!result)
        {
            var remaining = Timeouts.Remaining(deadline);
            if (remaining == 0)
            {
                break;
            }

            WaitCore(remaining, cancellationToken);
            result = predicate();
        }

        return result;
    }

    private int ReleaseLockForWait()
    {
        if (_exclusiveLock is not null)
        {
            _exclusiveLock.Release();
            return 1;
        }

        return _reentrantLock!.ReleaseAll();
    }

    private void ReacquireLockAfterWait(int recursionCount)
    {
        if (_exclusiveLock is not null)
        {
            _exclusiveLock.Acquire(CancellationToken.None);
        }
        else
        {
            _reentrantLock!.RestoreAll(recursionCount);
        }
    }

    private ExclusiveLock ExclusiveLockForAsync() =>
        _exclusiveLock ?? throw new InvalidOperationException(
            "Asynchronous members need a condition built on an ExclusiveLock: a ReentrantLock is owned by a thread, which an await may leave.");

    private void ThrowIfLockNotHeld(string action)
    {
        var held = _exclusiveLock?.IsLocked ?? _reentrantLock!.IsHeldByCurrentThread;
        if (!held)
        {
            throw new SynchronizationLockException($"Cannot {action} a condition whose lock is not held.");
        }
    }
}
