using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>
/// Blocking writes and reads, for stages that run on dedicated threads. Implemented by the handoffs of kinds
/// <see cref="HandoffKind.Condition"/> and <see cref="HandoffKind.Semaphore"/>. The blocking members follow the same
/// contract as the asynchronous ones of <see cref="ChannelWriter{T}"/> and <see cref="ChannelReader{T}"/>, including
/// exact cancellation: a write that throws <see cref="OperationCanceledException"/> did not deliver its item, and a read
/// that throws took none.
/// </summary>
/// <remarks>
/// Call the blocking members from threads of your own (for example <see cref="TaskCreationOptions.LongRunning"/>), not
/// from thread-pool threads: a pool thread blocked in <c>Read</c> or <c>Write</c> is a thread the pool cannot lend to
/// the asynchronous writers or readers it waits for. On a pool limited to a few threads (a container's CPU quota,
/// <c>ThreadPool.SetMaxThreads</c>), readers blocked on pool threads can hold every thread while the writers' continuations
/// wait in the pool's queue, and the handoff then makes no progress.
/// </remarks>
/// <typeparam name="T">The type of the items.</typeparam>
public interface IBlockingHandoff<T> : IHandoff
{
    /// <summary>Writes an item, blocking the calling thread while the handoff is full (in <see cref="BoundedChannelFullMode.Wait"/> mode).</summary>
    /// <param name="item">The item to write.</param>
    /// <param name="cancellationToken">Cancels the wait; the item is then not written.</param>
    /// <exception cref="ChannelClosedException">Thrown when the handoff was completed for writing; the completion exception, if any, is the inner exception.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the item was written.</exception>
    void Write(T item, CancellationToken cancellationToken = default);

    /// <summary>Writes an item, blocking the calling thread for at most <paramref name="timeout"/> while the handoff is full.</summary>
    /// <param name="item">The item to write.</param>
    /// <param name="timeout">How long to wait for room: <see cref="Timeout.InfiniteTimeSpan"/> waits forever, <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; the item is then not written.</param>
    /// <returns><see langword="true"/> when the item was written (or dropped by a drop mode, and reported); <see langword="false"/> when the time ran out and nothing changed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown, before anything is written, read or waited for, when <paramref name="timeout"/> is not <see cref="Timeout.InfiniteTimeSpan"/> and is negative or longer than <see cref="int.MaxValue"/> milliseconds (about 24.8 days).</exception>
    /// <exception cref="ChannelClosedException">Thrown when the handoff was completed for writing; the completion exception, if any, is the inner exception.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the item was written.</exception>
    bool TryWrite(T item, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Reads an item, blocking the calling thread while the handoff is empty.</summary>
    /// <param name="cancellationToken">Cancels the wait; no item is then taken.</param>
    /// <returns>The oldest item.</returns>
    /// <exception cref="ChannelClosedException">Thrown when the handoff was completed and is drained; the completion exception, if any, is the inner exception.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before an item was taken.</exception>
    T Read(CancellationToken cancellationToken = default);

    /// <summary>Reads an item, blocking the calling thread for at most <paramref name="timeout"/> while the handoff is empty.</summary>
    /// <param name="item">The oldest item, when one was taken.</param>
    /// <param name="timeout">How long to wait for an item: <see cref="Timeout.InfiniteTimeSpan"/> waits forever, <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait; no item is then taken.</param>
    /// <returns><see langword="true"/> when an item was taken; <see langword="false"/> when the time ran out and nothing changed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown, before anything is written, read or waited for, when <paramref name="timeout"/> is not <see cref="Timeout.InfiniteTimeSpan"/> and is negative or longer than <see cref="int.MaxValue"/> milliseconds (about 24.8 days).</exception>
    /// <exception cref="ChannelClosedException">Thrown when the handoff was completed and is drained, so that no item will ever come; the completion exception, if any, is the inner exception.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before an item was taken.</exception>
    bool TryRead([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken = default);
}
