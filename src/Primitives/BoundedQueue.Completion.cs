using System.Runtime.CompilerServices;
using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>Work tracking (<c>task_done</c>, <c>join</c>) and shutdown, as Python's <c>queue.Queue</c> has them.</summary>
public sealed partial class BoundedQueue<T>
{
    /// <summary>Marks one taken item as processed. When every item put has been taken and marked, <see cref="Join"/> returns.</summary>
    /// <exception cref="InvalidOperationException">Thrown when called more times than items were taken.</exception>
    public void TaskDone()
    {
        _lock.AcquireBarging();
        try
        {
            if (_takenNotDone <= 0)
            {
                throw new InvalidOperationException("TaskDone was called more times than items were taken.");
            }

            if (--_takenNotDone == 0 && _count == 0)
            {
                _allDone.NotifyAll();
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Blocks the calling thread until every item put has been taken and marked with <see cref="TaskDone"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled first.</exception>
    public void Join(CancellationToken cancellationToken = default)
    {
        _lock.AcquireBarging(cancellationToken);
        try
        {
            while (_count > 0 || _takenNotDone > 0)
            {
                WaitLocked(_allDone, Timeouts.Infinite, cancellationToken);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Waits asynchronously until every item put has been taken and marked with <see cref="TaskDone"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when no item is unfinished.</returns>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled first.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask JoinAsync(CancellationToken cancellationToken = default)
    {
        await _lock.AcquireBargingAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (_count > 0 || _takenNotDone > 0)
            {
                await WaitLockedAsync(_allDone, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Shuts the queue down: puts, waiting or later, throw <see cref="QueueShutDownException"/>; takers receive the
    /// items still queued, then throw it. Idempotent.
    /// </summary>
    public void Shutdown()
    {
        _lock.AcquireBarging();
        try
        {
            ShutdownLocked();
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Shuts the queue down and removes the items not yet taken, returning them so that none is dropped unseen.
    /// They no longer count for <see cref="Join"/>, which then waits only for items taken but not yet marked done.
    /// </summary>
    /// <returns>The items that were queued, oldest first.</returns>
    public IReadOnlyList<T> ShutdownNow()
    {
        _lock.AcquireBarging();
        try
        {
            ShutdownLocked();
            var undelivered = new T[_count];
            for (var i = 0; i < undelivered.Length; i++)
            {
                undelivered[i] = TakeFromRingLocked();
            }

            if (_takenNotDone == 0)
            {
                _allDone.NotifyAll();
            }

            return undelivered;
        }
        finally
        {
            _lock.Release();
        }
    }

    private void ShutdownLocked()
    {
        _isShutdown = true;
        _notEmpty.NotifyAll();
        _notFull.NotifyAll();
    }
}
