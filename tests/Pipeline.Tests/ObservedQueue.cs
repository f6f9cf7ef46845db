using System.Collections;
using System.Collections.Concurrent;

namespace Pipeline.Tests;

/// <summary>
/// What a test records as it happens (items a sink took, lines logged, hooks run, acknowledgements), in the order added,
/// with a signal at each addition: a test waits for what it needs to have happened (<see cref="WaitUntilAsync"/>) without
/// polling. Thread-safe.
/// </summary>
/// <typeparam name="T">What is recorded.</typeparam>
internal sealed class ObservedQueue<T> : IReadOnlyCollection<T>
{
    private readonly ConcurrentQueue<T> _items = new();

    /// <summary>Completed, and replaced, at the next addition.</summary>
    private TaskCompletionSource _added = NewSignal();

    public int Count => _items.Count;

    public bool IsEmpty => _items.IsEmpty;

    public void Enqueue(T item)
    {
        _items.Enqueue(item);
        Interlocked.Exchange(ref _added, NewSignal()).SetResult();
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, looking again after each addition; fails the test after
    /// <see cref="TestStages.Bound"/>. The signal is taken before each look, so an addition between the look and the wait
    /// is not missed.
    /// </summary>
    public async Task WaitUntilAsync(Func<ObservedQueue<T>, bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TestStages.Bound);
        while (true)
        {
            Task added = Volatile.Read(ref _added).Task;
            if (condition(this))
            {
                return;
            }

            try
            {
                await added.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for {what}; {Count} recorded.");
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> are recorded.</summary>
    public Task WaitForCountAsync(int count, string what) => WaitUntilAsync(observed => observed.Count >= count, what);

    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
