using System.Threading.Tasks.Sources;

namespace Pipeline.Primitives.Internal;

/// <summary>
/// One caller waiting in a <see cref="WaitQueue"/>: a pooled, reusable node that a blocking caller parks on
/// (its monitor) and an asynchronous caller awaits (as an <see cref="IValueTaskSource{TResult}"/>).
/// </summary>
/// <remarks>
/// Its outcome is decided exactly once, under the queue's lock, by whoever takes it out of the queue: a granter
/// (release, notify, set) or the waiter giving up (timeout, cancellation). Deciding under the same lock is what
/// makes a grant and a give-up that race never both happen, so a permit or a notification is never lost.
/// The outcome is published by <see cref="Signal"/> after the lock is released.
/// The result is an <see cref="int"/>: a non-negative payload (0, or an arrival index) when granted,
/// <see cref="TimedOutResult"/> when the wait timed out.
/// </remarks>
internal sealed class Waiter : IValueTaskSource<int>, IValueTaskSource<bool>, IValueTaskSource
{
    /// <summary>The result of a wait that timed out.</summary>
    public const int TimedOutResult = -1;

    private static readonly Action<object?> s_cancelCallback = static state => ((Waiter)state!).OnCancelled();
    private static readonly TimerCallback s_timerCallback = static state => ((Waiter)state!).OnTimerFired();

    private readonly WaitQueue _queue;

    /// <summary>The asynchronous completion; continuations always run asynchronously, never under a lock.</summary>
    private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };

    /// <summary>True when the waiting caller blocks a thread; false when it awaits.</summary>
    private bool _isSync;

    /// <summary>Set once the outcome is published to a blocking caller; guarded by this node's monitor.</summary>
    private bool _signaled;

    /// <summary>The decided result: a payload (&gt;= 0) or <see cref="TimedOutResult"/>; meaningful once decided.</summary>
    private int _result;

    /// <summary>Non-null when the wait ends with this exception (cancellation, broken barrier).</summary>
    private Exception? _error;

    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _registration;

    /// <summary>Created on the first timed asynchronous wait of this node, then reused.</summary>
    private ITimer? _timer;

    /// <summary>The <see cref="Environment.TickCount64"/> at which the current asynchronous wait times out; long.MaxValue for none.</summary>
    private long _deadline = long.MaxValue;

    public Waiter(WaitQueue queue) => _queue = queue;

    /// <summary>Next node in the queue, the pool or a <see cref="WaiterList"/>; guarded by the queue's lock.</summary>
    public Waiter? Next;

    /// <summary>Previous node in the queue; guarded by the queue's lock.</summary>
    public Waiter? Previous;

    /// <summary>True while the node is linked in its queue; guarded by the queue's lock.</summary>
    public bool IsQueued;

    /// <summary>The <see cref="Stopwatch"/> timestamp at which the caller first joined the queue; kept across re-queueing.</summary>
    public long QueuedSince;

    /// <summary>Gets a value indicating whether the waiting caller blocks a thread (rather than awaiting).</summary>
    public bool IsSync => _isSync;

    /// <summary>
    /// Whether the waiter must never be handed the resource while it is parked: it is only ever woken to take it
    /// itself, once running. Set by the owner right after queueing; cleared by <see cref="Reset"/>.
    /// </summary>
    public bool NeverHandOver;

    /// <summary>Gets the token of the current asynchronous wait.</summary>
    public short Version => _core.Version;

    /// <summary>Prepares a rented node for a new wait. Called under the queue's lock.</summary>
    public void Reset(bool isSync)
    {
        _core.Reset();
        _isSync = isSync;
        NeverHandOver = false;
        _signaled = false;
        _result = 0;
        _error = null;
        _deadline = long.MaxValue;
    }

    /// <summary>Decides a granted outcome carrying <paramref name="payload"/>. Called under the queue's lock, off the queue.</summary>
    public void Grant(int payload = 0)
    {
        Debug.Assert(payload >= 0, "A granted payload is never negative.");
        _result = payload;
        _error = null;
    }

    /// <summary>Decides a failed outcome. Called under the queue's lock, off the queue.</summary>
    public void Fail(Exception error) => _error = error;

    /// <summary>Decides a timed-out outcome. Called under the queue's lock, off the queue.</summary>
    public void TimeOut() => _result = TimedOutResult;

    /// <summary>
    /// Starts watching <paramref name="cancellationToken"/> and, for an asynchronous wait, the timeout. Called
    /// after the node is queued and the lock released; the caller has not yet received the ValueTask, so the
    /// node cannot be recycled before this returns.
    /// </summary>
    public void Arm(long timeoutMilliseconds, CancellationToken cancellationToken)
    {
        _cancellationToken = cancellationToken;
        if (!_isSync && timeoutMilliseconds != Timeouts.Infinite)
        {
            _deadline = Timeouts.Deadline(timeoutMilliseconds);
            _timer ??= TimeProvider.System.CreateTimer(s_timerCallback, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(TimeSpan.FromMilliseconds(timeoutMilliseconds), Timeout.InfiniteTimeSpan);
        }

        if (cancellationToken.CanBeCanceled)
        {
            // A token cancelled meanwhile runs the callback right here; it finds the node queued and gives up.
            _registration = cancellationToken.UnsafeRegister(s_cancelCallback, this);
        }
    }

    /// <summary>Publishes the decided outcome to the waiting caller. Called once, without any primitive's lock.</summary>
    public void Signal()
    {
        if (_isSync)
        {
            lock (this)
            {
                _signaled = true;
                Monitor.Pulse(this);
            }
        }
        else if (_error is not null)
        {
            _core.SetException(_error);
        }
        else
        {
            _core.SetResult(_result);
        }
    }

    /// <summary>
    /// Blocks the calling thread until the outcome is published or <paramref name="timeoutMilliseconds"/> pass,
    /// then recycles the node.
    /// </summary>
    /// <returns>The payload when granted, <see cref="TimedOutResult"/> when timed out.</returns>
    /// <exception cref="Exception">The decided failure (cancellation, broken barrier).</exception>
    public int WaitSync(long timeoutMilliseconds)
    {
        Debug.Assert(_isSync, "Only blocking waits park a thread.");
        var deadline = Timeouts.Deadline(timeoutMilliseconds);

        // A short spin catches a hand-off that is already under way without paying for a context switch.
        var spinner = default(SpinWait);
        while (!Volatile.Read(ref _signaled) && !spinner.NextSpinWillYield)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        while (true)
        {
            lock (this)
            {
                while (!_signaled)
                {
                    var remaining = Timeouts.Remaining(deadline);
                    if (remaining == 0)
                    {
                        break;
                    }

                    ParkObserver?.Invoke(Thread.CurrentThread);
                    Monitor.Wait(this, remaining == Timeouts.Infinite ? Timeout.Infinite : (int)remaining);
                }

                if (_signaled)
                {
                    break;
                }
            }

            // Timed out: give up unless a grant has already taken the node out of the queue, in which case its
            // signal is on the way and the grant wins.
            _queue.TryAbandon(this, timedOut: true);
            deadline = long.MaxValue;
        }

        var result = _result;
        var error = _error;
        Recycle();
        if (error is not null)
        {
            throw error;
        }

        return result;
    }

    private void OnCancelled() => _queue.TryAbandon(this, timedOut: false);

    /// <summary>
    /// Called, when set, as a timer tick begins (<see langword="false"/>) and once it has been handled (<see langword="true"/>), with
    /// the tick's queue: lets a test order its steps by a tick instead of sleeping past it. Null in production.
    /// </summary>
    internal static Action<WaitQueue, bool>? TimerTickObserver { get; set; }

    /// <summary>
    /// Called, when set, by a blocking caller's thread as it parks (queued, holding this node's monitor, about to wait on it): lets a
    /// test wait for a thread to be parked instead of polling its state. Null in production.
    /// </summary>
    internal static Action<Thread>? ParkObserver { get; set; }

    private void OnTimerFired()
    {
        var observer = TimerTickObserver;
        observer?.Invoke(_queue, false);
        _queue.TryAbandon(this, timedOut: true, byTimer: true);
        observer?.Invoke(_queue, true);
    }

    /// <summary>
    /// Whether the current wait's deadline has passed. Called under the queue's lock when the timer fires; a tick
    /// that comes early, or late from an earlier wait of this reused node, re-arms the timer for the current
    /// deadline, if any.
    /// </summary>
    public bool IsPastDeadline()
    {
        var deadline = Volatile.Read(ref _deadline);
        if (deadline == long.MaxValue)
        {
            // Not armed yet, or an untimed wait: Arm starts the timer itself when there is a deadline.
            return false;
        }

        var remaining = deadline - Environment.TickCount64;
        if (remaining <= 0)
        {
            return true;
        }

        _timer!.Change(TimeSpan.FromMilliseconds(remaining), Timeout.InfiniteTimeSpan);
        return false;
    }

    /// <summary>Builds the exception a cancelled wait ends with.</summary>
    public OperationCanceledException CreateCancelledException() => new(_cancellationToken);

    /// <summary>Stops watching the token and the timer and returns the node to its pool.</summary>
    private void Recycle()
    {
        // Dispose rather than Unregister: it waits for a running cancellation callback to finish, so no callback
        // of this wait can touch the node once it is reused.
        _registration.Dispose();
        _registration = default;
        _cancellationToken = default;
        if (_deadline != long.MaxValue)
        {
            Volatile.Write(ref _deadline, long.MaxValue);
            _timer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _error = null;

        // Moves the version on, so that a stale token (a ValueTask awaited again) is refused instead of recycling the node twice.
        _core.Reset();
        _queue.Return(this);
    }

    /// <summary>
    /// Reads the outcome of an asynchronous wait, once, and recycles the node. Misuse throws and leaves the node as it was: a
    /// second read (a <see cref="ValueTask"/> awaited twice) finds the version moved on by <see cref="Recycle"/>, and a read before
    /// the outcome is published (<c>GetAwaiter().GetResult()</c> on a pending wait) leaves the wait queued, to take what it
    /// waits for as any pending wait would.
    /// </summary>
    /// <exception cref="InvalidOperationException">Thrown when the result was already read, or the wait has not completed.</exception>
    private int GetResultAndRecycle(short token)
    {
        if (token != _core.Version)
        {
            throw new InvalidOperationException("The result of this wait was already consumed; a ValueTask can be awaited once.");
        }

        if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            throw new InvalidOperationException("The wait has not completed: its result can be read only once it has (await the ValueTask, or call AsTask()).");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    int IValueTaskSource<int>.GetResult(short token) => GetResultAndRecycle(token);

    bool IValueTaskSource<bool>.GetResult(short token) => GetResultAndRecycle(token) != TimedOutResult;

    void IValueTaskSource.GetResult(short token) => GetResultAndRecycle(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
