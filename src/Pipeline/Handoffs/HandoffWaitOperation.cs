using System.Threading.Tasks.Sources;

namespace Pipeline.Handoffs;

/// <summary>
/// What a custom handoff does when a wait for an item (a condition's notification) ends: answers <c>WaitToReadAsync</c>, or starts
/// the next wait.
/// </summary>
internal interface IHandoffWaitOwner
{
    /// <summary>
    /// Called once a wait ended: returns <see langword="true"/> with the answer (completed: <see langword="true"/>, <see langword="false"/>,
    /// or the completion's exception), or <see langword="false"/> with the next wait, already started.
    /// </summary>
    bool TryAnswerAfterWait(CancellationToken cancellationToken, out ValueTask<bool> answer, out ValueTask<bool> nextWait);
}

/// <summary>
/// A pooled <c>WaitToReadAsync</c> in progress: awaits the primitive's wait, then asks its handoff for the answer, waiting again as
/// often as the handoff says. It stands in for an <see langword="async"/> method around the wait, whose state machine cost about
/// 100 ns per wake-up: the caller resumes directly from the primitive's continuation, which already runs on the thread pool
/// (the primitives queue their waiter itself, so this continuation allocates nothing).
/// </summary>
internal sealed class HandoffWaitOperation : IValueTaskSource<bool>
{
    /// <summary>How many finished operations each handoff keeps for reuse.</summary>
    private const int PoolSize = 8;

    private readonly Action _onWaitEnded;
    private ManualResetValueTaskSourceCore<bool> _core;
    private IHandoffWaitOwner? _owner;
    private CancellationToken _cancellationToken;
    private ValueTask<bool> _wait;
    private HandoffWaitOperation?[]? _pool;

    private HandoffWaitOperation()
    {
        _onWaitEnded = OnWaitEnded;

        // Completed only from the primitive's continuation, which runs on the thread pool outside every lock: the caller may resume
        // right there.
        _core.RunContinuationsAsynchronously = false;
    }

    /// <summary>Creates the pool of one handoff.</summary>
    public static HandoffWaitOperation?[] CreatePool() => new HandoffWaitOperation?[PoolSize];

    /// <summary>
    /// Answers once <paramref name="wait"/> has ended and the owner has an answer: at once when the wait already ended and the owner
    /// answers, otherwise through a pooled operation from <paramref name="pool"/>.
    /// </summary>
    public static ValueTask<bool> Start(IHandoffWaitOwner owner, HandoffWaitOperation?[] pool, ValueTask<bool> wait, CancellationToken cancellationToken)
    {
        while (wait.IsCompleted)
        {
            try
            {
                wait.GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                return ValueTask.FromException<bool>(exception);
            }

            if (owner.TryAnswerAfterWait(cancellationToken, out ValueTask<bool> answer, out wait))
            {
                return answer;
            }
        }

        HandoffWaitOperation operation = Rent(pool);
        operation._owner = owner;
        operation._cancellationToken = cancellationToken;
        operation._pool = pool;
        short version = operation._core.Version;
        operation.Await(wait);
        return new ValueTask<bool>(operation, version);
    }

    public bool GetResult(short token)
    {
        if (token != _core.Version)
        {
            throw new InvalidOperationException("The result of this wait was already consumed; a ValueTask can be awaited once.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Return();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private static HandoffWaitOperation Rent(HandoffWaitOperation?[] pool)
    {
        for (int index = 0; index < pool.Length; index++)
        {
            if (Volatile.Read(ref pool[index]) is not null && Interlocked.Exchange(ref pool[index], null) is { } operation)
            {
                return operation;
            }
        }

        return new HandoffWaitOperation();
    }

    private void Await(ValueTask<bool> wait)
    {
        _wait = wait;
        wait.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onWaitEnded);
    }

    /// <summary>Runs on the thread pool once the wait ended: answers the caller, or waits again.</summary>
    private void OnWaitEnded()
    {
        ValueTask<bool> wait = _wait;
        _wait = default;
        while (true)
        {
            try
            {
                wait.GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                _core.SetException(exception);
                return;
            }

            if (_owner!.TryAnswerAfterWait(_cancellationToken, out ValueTask<bool> answer, out wait))
            {
                SetAnswer(answer);
                return;
            }

            if (!wait.IsCompleted)
            {
                Await(wait);
                return;
            }
        }
    }

    private void SetAnswer(ValueTask<bool> answer)
    {
        try
        {
            _core.SetResult(answer.GetAwaiter().GetResult());
        }
        catch (Exception exception)
        {
            _core.SetException(exception);
        }
    }

    private void Return()
    {
        HandoffWaitOperation?[] pool = _pool!;
        _core.Reset();
        _owner = null;
        _pool = null;
        _cancellationToken = default;
        for (int index = 0; index < pool.Length; index++)
        {
            if (Interlocked.CompareExchange(ref pool[index], this, null) is null)
            {
                return;
            }
        }
    }
}
