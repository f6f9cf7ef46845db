using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>
/// A flag that callers wait on until it is set, like Python's <c>threading.Event</c>. <see cref="Set"/> wakes every
/// waiter; waits on a set event return at once; <see cref="Clear"/> makes later waits block again.
/// </summary>
/// <remarks>
/// <c>Set(); Clear();</c> in quick succession still releases every waiter that was blocked when <see cref="Set"/>
/// ran: they are released by the set itself, not by finding the flag still up when they wake. Waiting on a set
/// event allocates nothing.
/// </remarks>
public sealed class Event
{
    /// <summary>The flag; changes under the queue's lock, read without it.</summary>
    private volatile bool _isSet;

    /// <summary>Callers waiting for the flag, oldest first; empty whenever the flag is set.</summary>
    private readonly WaitQueue _waiters = new(owner: null);

    /// <summary>Initializes a new instance.</summary>
    /// <param name="initialState">Whether the event starts set.</param>
    public Event(bool initialState = false) => _isSet = initialState;

    /// <summary>Gets a value indicating whether the event is set.</summary>
    public bool IsSet => _isSet;

    /// <summary>Sets the event, waking every waiter.</summary>
    public void Set()
    {
        if (_isSet)
        {
            return;
        }

        var release = default(WaiterList);
        lock (_waiters.Sync)
        {
            _isSet = true;
            _waiters.GrantMany(int.MaxValue, ref release);
        }

        release.SignalAll();
    }

    /// <summary>Clears the event: later waits block until it is set again.</summary>
    public void Clear()
    {
        lock (_waiters.Sync)
        {
            _isSet = false;
        }
    }

    /// <summary>Blocks the calling thread until the event is set.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the event is set.</exception>
    public void Wait(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_isSet)
        {
            WaitSlow(Timeouts.Infinite, cancellationToken);
        }
    }

    /// <summary>Blocks the calling thread until the event is set or <paramref name="timeout"/> passes.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> if the event was set; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the event is set.</exception>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        cancellationToken.ThrowIfCancellationRequested();
        if (_isSet)
        {
            return true;
        }

        return milliseconds != 0 && WaitSlow(milliseconds, cancellationToken);
    }

    /// <summary>Waits asynchronously until the event is set.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the event is set; synchronously, without allocating, when it already is.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the event is set.</exception>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_isSet)
        {
            return default;
        }

        var waiter = EnqueueUnlessSet(isSync: false);
        if (waiter is null)
        {
            return default;
        }

        waiter.Arm(Timeouts.Infinite, cancellationToken);
        return new ValueTask(waiter, waiter.Version);
    }

    /// <summary>Waits asynchronously until the event is set or <paramref name="timeout"/> passes.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> if the event was set; <see langword="false"/> if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the event is set.</exception>
    public ValueTask<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var milliseconds = Timeouts.ToMilliseconds(timeout, nameof(timeout));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (_isSet)
        {
            return new ValueTask<bool>(true);
        }

        if (milliseconds == 0)
        {
            return new ValueTask<bool>(false);
        }

        var waiter = EnqueueUnlessSet(isSync: false);
        if (waiter is null)
        {
            return new ValueTask<bool>(true);
        }

        waiter.Arm(milliseconds, cancellationToken);
        return new ValueTask<bool>(waiter, waiter.Version);
    }

    private bool WaitSlow(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        var waiter = EnqueueUnlessSet(isSync: true);
        if (waiter is null)
        {
            return true;
        }

        waiter.Arm(Timeouts.Infinite, cancellationToken);
        return waiter.WaitSync(timeoutMilliseconds) != Waiter.TimedOutResult;
    }

    private Waiter? EnqueueUnlessSet(bool isSync)
    {
        lock (_waiters.Sync)
        {
            return _isSet ? null : _waiters.Enqueue(isSync);
        }
    }
}
