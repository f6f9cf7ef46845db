using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

/// <summary>
/// Shared helpers for tests that run blocking waits on dedicated threads. Every wait here has a
/// hard bound, so a deadlock fails a test instead of hanging the run. Tests that call blocking
/// members on their own thread are async with a <c>Timeout</c> and start with
/// <c>await Task.Yield()</c>: xunit enforces the timeout only on the returned task, so the body
/// must run after the method has returned it.
/// </summary>
internal static class Concurrency
{
    /// <summary>The bound on any wait that is expected to finish.</summary>
    public static readonly TimeSpan HangTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a waiter that must stay blocked is given to (wrongly) finish. It only bounds a
    /// negative check; no test relies on it for ordering.
    /// </summary>
    public static readonly TimeSpan StaysBlockedWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>Runs <paramref name="body"/> on a dedicated thread, never on the thread pool.</summary>
    public static Task Run(Action body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Runs <paramref name="body"/> on a dedicated thread, never on the thread pool.</summary>
    public static Task<T> Run<T>(Func<T> body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Waits, with a hard bound, for <paramref name="condition"/> to hold.</summary>
    public static void WaitUntil(Func<bool> condition, string what = "condition")
    {
        Assert.True(SpinWait.SpinUntil(condition, HangTimeout), $"Timed out waiting for {what}.");
    }

    /// <summary>Asserts that <paramref name="task"/> completes (successfully or not) within the hard bound.</summary>
    public static void AssertCompletes(Task task)
    {
        Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(HangTimeout), "The operation did not complete in time.");
        task.GetAwaiter().GetResult();
    }

    /// <summary>Asserts that <paramref name="task"/> completes within the hard bound and returns its result.</summary>
    public static T AssertCompletes<T>(Task<T> task)
    {
        AssertCompletes((Task)task);
        return task.Result;
    }

    /// <summary>Asserts that <paramref name="task"/> fails with <typeparamref name="TException"/> within the hard bound.</summary>
    public static TException AssertFails<TException>(Task task)
        where TException : Exception
    {
        Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(HangTimeout), "The operation did not complete in time.");
        return Assert.ThrowsAny<TException>(() => task.GetAwaiter().GetResult());
    }

    /// <summary>
    /// Asserts that <paramref name="task"/> is still running after a short, bounded chance to
    /// finish. Used once the blocking call is known to have been reached, so it holds whether or
    /// not the waiter has physically parked yet.
    /// </summary>
    public static void AssertStaysBlocked(Task task, string what = "the waiter")
    {
        Assert.False(((IAsyncResult)task).AsyncWaitHandle.WaitOne(StaysBlockedWindow), $"{what} should still be blocked.");
        Assert.False(task.IsCompleted, $"{what} should still be blocked.");
    }

    /// <summary>How many times each thread has parked in a primitive's blocking wait (reported by the primitives' park observer).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Thread, System.Runtime.CompilerServices.StrongBox<int>> s_parks = [];

    /// <summary>Returns how many times <paramref name="thread"/> has parked in a primitive's blocking wait so far.</summary>
    public static int ParkCount(Thread thread) =>
        s_parks.TryGetValue(thread, out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>Waits until <paramref name="thread"/> has parked in a primitive's blocking wait more than <paramref name="before"/> times.</summary>
    public static void WaitUntilParked(Thread thread, int before = 0)
    {
        WaitUntil(() => ParkCount(thread) > before || (thread.ThreadState & System.Threading.ThreadState.Stopped) != 0, "the waiter to park");
        Assert.True(ParkCount(thread) > before, "The waiter finished instead of parking.");
    }

    /// <summary>Counts every park of every thread, from the test assembly's start.</summary>
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void ObserveParks() =>
        Pipeline.Primitives.Internal.Waiter.ParkObserver = thread =>
            Interlocked.Increment(ref s_parks.GetValue(thread, static _ => new System.Runtime.CompilerServices.StrongBox<int>()).Value);

    /// <summary>Asserts that <paramref name="elapsed"/> lies in [0.6 × expected, 10 × expected).</summary>
    public static void AssertDuration(TimeSpan elapsed, TimeSpan expected)
    {
        Assert.True(elapsed >= expected * 0.6, $"Returned after {elapsed.TotalMilliseconds:F1} ms, expected about {expected.TotalMilliseconds} ms.");
        Assert.True(elapsed < expected * 10, $"Returned after {elapsed.TotalMilliseconds:F1} ms, expected about {expected.TotalMilliseconds} ms.");
    }

    /// <summary>Asserts that <paramref name="pending"/> completed synchronously and returns its result.</summary>
    public static T CompletedResult<T>(ValueTask<T> pending)
    {
        Assert.True(pending.IsCompletedSuccessfully, "The call should have completed synchronously.");
        return pending.IsCompletedSuccessfully ? pending.Result : default!;
    }

    /// <summary>Asserts that <paramref name="pending"/> completed synchronously and observes it.</summary>
    public static void Completed(ValueTask pending)
    {
        Assert.True(pending.IsCompletedSuccessfully, "The call should have completed synchronously.");
        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
        }
    }

    /// <summary>A token that is already cancelled.</summary>
    public static CancellationToken CancelledToken() => new(canceled: true);
}

/// <summary>
/// A dedicated thread running one blocking scenario. The body calls <see cref="Enter"/> right
/// before its blocking call, so the test can wait for <see cref="WaitEntering"/> and know that
/// the call is at least about to be made.
/// </summary>
internal sealed class Waiter
{
    private readonly ManualResetEventSlim _entering = new();

    /// <summary>How many times the thread had parked when the body called <see cref="Enter"/>.</summary>
    private int _parksAtEnter;
    private readonly TaskCompletionSource<object?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Waiter(Func<Waiter, object?> body)
    {
        Thread = new Thread(() =>
        {
            try
            {
                _completion.SetResult(body(this));
            }
            catch (Exception exception)
            {
                _completion.SetException(exception);
            }
        })
        {
            IsBackground = true,
        };
        Thread.Start();
    }

    /// <summary>The thread.</summary>
    public Thread Thread { get; }

    /// <summary>Completes when the body returns (with its result) or throws.</summary>
    public Task<object?> Completion => _completion.Task;

    /// <summary>Starts a thread running <paramref name="body"/>.</summary>
    public static Waiter Start(Action<Waiter> body) => new(waiter =>
    {
        body(waiter);
        return null;
    });

    /// <summary>Starts a thread running <paramref name="body"/>, keeping its result.</summary>
    public static Waiter Start<T>(Func<Waiter, T> body) => new(waiter => body(waiter));

    /// <summary>Signals that the blocking call is about to be made. Called by the body.</summary>
    public void Enter()
    {
        _parksAtEnter = Concurrency.ParkCount(Thread.CurrentThread);
        _entering.Set();
    }

    /// <summary>Waits, with a hard bound, until the body called <see cref="Enter"/>.</summary>
    public void WaitEntering() =>
        Assert.True(_entering.Wait(Concurrency.HangTimeout), "The waiter never reached its blocking call.");

    /// <summary>Waits until the body called <see cref="Enter"/> and the thread is parked in a wait.</summary>
    public void WaitParked()
    {
        WaitEntering();
        Concurrency.WaitUntilParked(Thread, _parksAtEnter);
    }

    /// <summary>Asserts the body finishes in time without throwing.</summary>
    public void AssertCompleted() => Concurrency.AssertCompletes(Completion);

    /// <summary>Asserts the body finishes in time and returns its result.</summary>
    public T Result<T>() => (T)Concurrency.AssertCompletes(Completion)!;

    /// <summary>Asserts the body fails in time with <typeparamref name="TException"/>.</summary>
    public TException AssertFails<TException>()
        where TException : Exception => Concurrency.AssertFails<TException>(Completion);

    /// <summary>Asserts the body is still blocked after a bounded chance to finish.</summary>
    public void AssertStaysBlocked() => Concurrency.AssertStaysBlocked(Completion);
}
