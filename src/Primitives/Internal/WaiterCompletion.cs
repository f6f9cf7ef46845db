using System.Threading.Tasks.Sources;

namespace Pipeline.Primitives.Internal;

/// <summary>
/// The asynchronous completion of a <see cref="Waiter"/>, in place of <see cref="ManualResetValueTaskSourceCore{TResult}"/>: the
/// outcome is visible at once (a granted wait reports completed as soon as its granter returns), and the continuation runs on the
/// thread pool with the waiter itself as the queued work item, whatever the continuation is. The thread pool queues an
/// <see langword="async"/> method's state machine without allocating, but any other continuation (a handoff's own wait operation)
/// only through a work item allocated per call; this way no wake-up allocates, and none runs on the thread that decided it.
/// </summary>
internal struct WaiterCompletion
{
    /// <summary>Stands in <see cref="_continuation"/> once the outcome is published with no continuation registered yet.</summary>
    private static readonly Action<object?> s_completed = static _ => throw new InvalidOperationException("Not a continuation.");

    private Action<object?>? _continuation;
    private object? _continuationState;
    private ExecutionContext? _executionContext;
    private object? _schedulingContext;
    private volatile bool _completed;

    /// <summary>Gets the token of the current wait.</summary>
    public short Version { get; private set; }

    /// <summary>Gets a value indicating whether the outcome is published.</summary>
    public readonly bool IsCompleted => _completed;

    /// <summary>Prepares for a new wait: a new token, nothing published, no continuation.</summary>
    public void Reset()
    {
        Version++;
        _completed = false;
        _continuation = null;
        _continuationState = null;
        _executionContext = null;
        _schedulingContext = null;
    }

    /// <summary>Publishes the outcome (decided before); returns whether a continuation waits, which the caller then queues.</summary>
    public bool Complete()
    {
        _completed = true;
        return Interlocked.CompareExchange(ref _continuation, s_completed, null) is not null;
    }

    /// <summary>Registers the continuation; returns whether the outcome was already published, in which case the caller queues it.</summary>
    public bool OnCompleted(Action<object?> continuation, object? state, ValueTaskSourceOnCompletedFlags flags)
    {
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0)
        {
            _executionContext = ExecutionContext.Capture();
        }

        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
        {
            if (SynchronizationContext.Current is { } context && context.GetType() != typeof(SynchronizationContext))
            {
                _schedulingContext = context;
            }
            else if (TaskScheduler.Current != TaskScheduler.Default)
            {
                _schedulingContext = TaskScheduler.Current;
            }
        }

        _continuationState = state;
        Action<object?>? previous = Interlocked.CompareExchange(ref _continuation, continuation, null);
        if (previous is null)
        {
            return false;
        }

        if (!ReferenceEquals(previous, s_completed))
        {
            throw new InvalidOperationException("A ValueTask can be awaited once.");
        }

        _continuation = continuation;
        return true;
    }

    /// <summary>Runs the continuation, on the thread pool (from the waiter's work item), in the context it asked for.</summary>
    public readonly void RunContinuation()
    {
        Action<object?> continuation = _continuation!;
        object? state = _continuationState;
        switch (_schedulingContext)
        {
            case SynchronizationContext context:
                context.Post(static pair => Invoke(pair), (continuation, state));
                return;
            case TaskScheduler scheduler:
                _ = Task.Factory.StartNew(continuation, state, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler);
                return;
        }

        if (_executionContext is { } executionContext)
        {
            ExecutionContext.Run(executionContext, static pair => Invoke(pair), (continuation, state));
            return;
        }

        continuation(state);
    }

    private static void Invoke(object? pair)
    {
        var (continuation, state) = ((Action<object?>, object?))pair!;
        continuation(state);
    }
}
