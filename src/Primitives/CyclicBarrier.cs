using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>
/// A reusable barrier for a fixed number of parties, like Python's <c>threading.Barrier</c>: each party calls
/// <c>SignalAndWait</c>, and all are released together once the last one arrives. An optional action runs once
/// per generation, by the last party, before anyone is released.
/// </summary>
/// <remarks>
/// Each generation hands out the distinct arrival indices 0 to <see cref="Parties"/> − 1, in arrival order (the
/// last party gets <see cref="Parties"/> − 1). A party whose wait times out (including
/// <see cref="TimeSpan.Zero"/> when it is not the last) breaks the barrier: it and every other waiter get
/// <see cref="BrokenBarrierException"/>, as do later callers until <see cref="Reset"/>. A cancelled party withdraws
/// its arrival without breaking the barrier. If the action throws, the party that ran it gets that exception and
/// the others <see cref="BrokenBarrierException"/>.
/// </remarks>
public sealed class CyclicBarrier : IWaitQueueOwner
{
    private static readonly Func<Exception> s_brokenError = static () => new BrokenBarrierException();

    /// <summary>Run by the last party of each generation before the others are released; null for none.</summary>
    private readonly Action? _action;

    /// <summary>The timeout of the overloads that take none, in milliseconds; <see cref="Timeouts.Infinite"/> for none.</summary>
    private readonly long _defaultTimeoutMilliseconds;

    /// <summary>Parties of the current generation waiting for the last one, in arrival order.</summary>
    private readonly WaitQueue _waiters;

    /// <summary>True once broken, until <see cref="Reset"/>; written under the queue's lock.</summary>
    private volatile bool _isBroken;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="parties">How many parties each generation waits for; at least 1.</param>
    /// <param name="action">Run once per generation by the last party to arrive, before anyone is released; <see langword="null"/> for none.</param>
    /// <param name="timeout">The timeout of <see cref="SignalAndWait(CancellationToken)"/> and <see cref="SignalAndWaitAsync(CancellationToken)"/>; <see langword="null"/> waits forever.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="parties"/> is less than 1, or <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public CyclicBarrier(int parties, Action? action = null, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parties, 1);
        Parties = parties;
        _action = action;
        _defaultTimeoutMilliseconds = timeout is { } value ? Timeouts.ToMilliseconds(value, nameof(timeout)) : Timeouts.Infinite;
        _waiters = new WaitQueue(this);
    }

    /// <summary>Gets how many parties each generation waits for.</summary>
    public int Parties { get; }

    /// <summary>Gets how many parties of the current generation are waiting.</summary>
    public int WaitingCount => _waiters.Count;

    /// <summary>Gets a value indicating whether the barrier is broken.</summary>
    public bool IsBroken => _isBroken;

    /// <summary>Arrives at the barrier and blocks the calling thread until every party has arrived, waiting at most the constructor's timeout.</summary>
    /// <param name="cancellationToken">Withdraws this party's arrival, without breaking the barrier.</param>
    /// <returns>This party's arrival index, from 0 to <see cref="Parties"/> − 1.</returns>
    /// <exception cref="BrokenBarrierException">Thrown when the barrier is or becomes broken.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the generation completes.</exception>
    public int SignalAndWait(CancellationToken cancellationToken = default) =>
        SignalAndWaitCore(_defaultTimeoutMilliseconds, cancellationToken);

    /// <summary>Arrives at the barrier and blocks the calling thread until every party has arrived, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; on expiry the barrier breaks.</param>
    /// <param name="cancellationToken">Withdraws this party's arrival, without breaking the barrier.</param>
    /// <returns>This party's arrival index, from 0 to <see cref="Parties"/> − 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="BrokenBarrierException">Thrown when the barrier is or becomes broken, this party's timeout included.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the generation completes.</exception>
    public int SignalAndWait(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        SignalAndWaitCore(Timeouts.ToMilliseconds(timeout, nameof(timeout)), cancellationToken);

    /// <summary>Arrives at the barrier and waits asynchronously until every party has arrived, at most the constructor's timeout.</summary>
    /// <param name="cancellationToken">Withdraws this party's arrival, without breaking the barrier.</param>
    /// <returns>This party's arrival index, from 0 to <see cref="Parties"/> − 1.</returns>
    /// <exception cref="BrokenBarrierException">Thrown when the barrier is or becomes broken.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the generation completes.</exception>
    public ValueTask<int> SignalAndWaitAsync(CancellationToken cancellationToken = default) =>
        SignalAndWaitCoreAsync(_defaultTimeoutMilliseconds, cancellationToken);

    /// <summary>Arrives at the barrier and waits asynchronously until every party has arrived, at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="Timeout.InfiniteTimeSpan"/> waits forever; on expiry the barrier breaks.</param>
    /// <param name="cancellationToken">Withdraws this party's arrival, without breaking the barrier.</param>
    /// <returns>This party's arrival index, from 0 to <see cref="Parties"/> − 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="BrokenBarrierException">Thrown when the barrier is or becomes broken, this party's timeout included.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the generation completes.</exception>
    public ValueTask<int> SignalAndWaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        SignalAndWaitCoreAsync(Timeouts.ToMilliseconds(timeout, nameof(timeout)), cancellationToken);

    /// <summary>Breaks the barrier: every waiting party and every later caller gets <see cref="BrokenBarrierException"/> until <see cref="Reset"/>.</summary>
    public void Abort()
    {
        var release = default(WaiterList);
        lock (_waiters.Sync)
        {
            BreakLocked(ref release);
        }

        release.SignalAll();
    }

    /// <summary>Returns the barrier to its initial state: waiting parties get <see cref="BrokenBarrierException"/>, and a broken barrier becomes usable again.</summary>
    public void Reset()
    {
        var release = default(WaiterList);
        lock (_waiters.Sync)
        {
            _waiters.FailAll(s_brokenError, ref release);
            _isBroken = false;
        }

        release.SignalAll();
    }

    private int SignalAndWaitCore(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var arrival = Arrive(timeoutMilliseconds, isSync: true, out var waiter, out var generation);
        if (waiter is null)
        {
            return Complete(arrival, ref generation);
        }

        waiter.Arm(Timeouts.Infinite, cancellationToken);
        return waiter.WaitSync(timeoutMilliseconds);
    }

    private ValueTask<int> SignalAndWaitCoreAsync(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        Waiter? waiter;
        try
        {
            var arrival = Arrive(timeoutMilliseconds, isSync: false, out waiter, out var generation);
            if (waiter is null)
            {
                return new ValueTask<int>(Complete(arrival, ref generation));
            }
        }
        catch (Exception error)
        {
            // A broken barrier, or the action's own exception when this party ran it: reported through the task.
            return ValueTask.FromException<int>(error);
        }

        waiter.Arm(timeoutMilliseconds, cancellationToken);
        return new ValueTask<int>(waiter, waiter.Version);
    }

    private enum Arrival
    {
        Waiting,
        Last,
        Broke,
    }

    /// <summary>Records an arrival. Either queues a waiter, or, for the last party, takes the whole generation out of the queue.</summary>
    private Arrival Arrive(long timeoutMilliseconds, bool isSync, out Waiter? waiter, out WaiterList generation)
    {
        waiter = null;
        generation = default;
        lock (_waiters.Sync)
        {
            if (_isBroken)
            {
                throw new BrokenBarrierException();
            }

            if (_waiters.Count == Parties - 1)
            {
                var index = 0;
                while (_waiters.Dequeue() is { } party)
                {
                    party.Grant(index++);
                    generation.Add(party);
                }

                return Arrival.Last;
            }

            if (timeoutMilliseconds == 0)
            {
                BreakLocked(ref generation);
                return Arrival.Broke;
            }

            waiter = _waiters.Enqueue(isSync);
            return Arrival.Waiting;
        }
    }

    /// <summary>Finishes an arrival that did not wait: releases the generation after the action, or reports the break.</summary>
    private int Complete(Arrival arrival, ref WaiterList generation)
    {
        if (arrival == Arrival.Broke)
        {
            generation.SignalAll();
            throw new BrokenBarrierException("The barrier was broken: a party could not wait (zero timeout) for the others.");
        }

        if (_action is not null)
        {
            try
            {
                _action();
            }
            catch
            {
                generation.FailAll(s_brokenError);
                var nextGeneration = default(WaiterList);
                lock (_waiters.Sync)
                {
                    BreakLocked(ref nextGeneration);
                }

                generation.SignalAll();
                nextGeneration.SignalAll();
                throw;
            }
        }

        generation.SignalAll();
        return Parties - 1;
    }

    private void BreakLocked(ref WaiterList release)
    {
        _isBroken = true;
        _waiters.FailAll(s_brokenError, ref release);
    }

    Exception? IWaitQueueOwner.OnAbandoned(Waiter waiter, bool timedOut, ref WaiterList release)
    {
        if (!timedOut)
        {
            // A cancelled party withdraws; the others keep waiting.
            return null;
        }

        BreakLocked(ref release);
        return new BrokenBarrierException("The barrier was broken: a party's wait timed out.");
    }
}
