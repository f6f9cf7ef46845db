using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>
/// The completion rules shared by the custom handoffs, matching the BCL bounded channel: which exception a closed
/// handoff throws, and how the <see cref="ChannelReader{T}.Completion"/> task ends.
/// </summary>
internal static class HandoffCompletion
{
    /// <summary>
    /// Called, when set, by the <c>Semaphore</c> kind's <c>WaitToReadAsync</c> between finding the handoff open and looking at
    /// its filled slots, with the handoff: lets a test complete it at that moment instead of racing a few instructions. A field
    /// of this non-generic class, so that reading it costs no generic lookup. Null in production.
    /// </summary>
    internal static Action<object>? WaitToReadObserver;

    /// <summary>
    /// Called, when set, by the <c>Semaphore</c> kind's writes (<c>TryWrite</c>, and <c>WriteAsync</c> with room) between putting an item
    /// in the ring (the ring's lock released) and releasing its filled slot, with the handoff: lets a test look at the handoff in that
    /// moment. Null in production.
    /// </summary>
    internal static Action<object>? CommitObserver;

    /// <summary>Stored as the completion error of a handoff completed without an exception.</summary>
    public static readonly Exception DoneWritingSentinel = new ChannelClosedException();

    /// <summary>The exception that writes (and reads of a drained handoff) throw once the handoff is completed.</summary>
    public static Exception CreateClosedException(Exception doneWriting) =>
        doneWriting is OperationCanceledException ? doneWriting
        : !ReferenceEquals(doneWriting, DoneWritingSentinel) ? new ChannelClosedException(doneWriting)
        : new ChannelClosedException();

    /// <summary>
    /// The result of <c>WaitToWriteAsync</c> on a completed handoff, and of <c>WaitToReadAsync</c> on a completed and
    /// drained one: <see langword="false"/>, or the completion exception itself, unwrapped.
    /// </summary>
    public static ValueTask<bool> WaitClosed(Exception doneWriting) =>
        ReferenceEquals(doneWriting, DoneWritingSentinel) ? new ValueTask<bool>(false)
        : ValueTask.FromException<bool>(doneWriting);

    /// <summary>
    /// What a read of a completed and drained handoff returns without waiting, as the BCL channel's: the closed exception, or, for a
    /// completion with an <see cref="OperationCanceledException"/>, a cancelled task.
    /// </summary>
    public static ValueTask<T> Closed<T>(Exception doneWriting) =>
        doneWriting is OperationCanceledException canceled ? ValueTask.FromCanceled<T>(CanceledToken(canceled))
        : ValueTask.FromException<T>(CreateClosedException(doneWriting));

    /// <summary>
    /// What a write of a completed handoff returns without waiting, as the BCL channel's: a faulted task, with the completion's own
    /// <see cref="OperationCanceledException"/> when it completed with one (not a cancelled task, unlike a read).
    /// </summary>
    public static ValueTask Closed(Exception doneWriting) => ValueTask.FromException(CreateClosedException(doneWriting));

    /// <summary>
    /// Ends the completion task once the handoff is completed and drained, as the BCL channel does: cancelled with the exception's
    /// own token for an <see cref="OperationCanceledException"/>, otherwise faulted, the exception marked observed so that nobody
    /// awaiting <see cref="ChannelReader{T}.Completion"/> does not raise <see cref="TaskScheduler.UnobservedTaskException"/>. Call
    /// it outside the handoff's lock.
    /// </summary>
    public static void SignalDrained(TaskCompletionSource completion, Exception doneWriting)
    {
        if (ReferenceEquals(doneWriting, DoneWritingSentinel))
        {
            completion.TrySetResult();
        }
        else if (doneWriting is OperationCanceledException canceled)
        {
            completion.TrySetCanceled(canceled.CancellationToken);
        }
        else if (completion.TrySetException(doneWriting))
        {
            _ = completion.Task.Exception;
        }
    }

    private static CancellationToken CanceledToken(OperationCanceledException exception) =>
        exception.CancellationToken.IsCancellationRequested ? exception.CancellationToken : new CancellationToken(true);
}
