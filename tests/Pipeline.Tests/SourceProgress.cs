using System.Runtime.CompilerServices;

namespace Pipeline.Tests;

/// <summary>
/// A test source that tells how far the pipeline has taken from it: when it is asked for item <c>n</c> (0-based), the engine has
/// taken the <c>n</c> before it (it asks for the next item only once it has taken the last), so a test waits for "the source has
/// handed over <c>n</c> items" (<see cref="WaitForTakenAsync"/>) on a signal instead of polling the run's statistics. Thread-safe.
/// </summary>
internal sealed class SourceProgress
{
    private readonly List<(long Count, TaskCompletionSource Reached)> _waiters = [];

    /// <summary>How many items the pipeline has taken.</summary>
    private long _taken;

    /// <summary>The smallest count a waiter waits for; <see cref="long.MaxValue"/> with none, so that an item costs one read.</summary>
    private long _nextWanted = long.MaxValue;

    /// <summary>Gets how many items the pipeline has taken so far (a snapshot).</summary>
    public long Taken => Interlocked.Read(ref _taken);

    /// <summary>Yields 0, 1, 2, ... until the token is cancelled, as <see cref="TestStages.Endless"/> does.</summary>
    public IAsyncEnumerable<int> Endless(CancellationToken cancellationToken = default) => Count(null, this, cancellationToken);

    /// <summary>Yields 0..count-1, as <see cref="TestStages.Range"/> does; once the pipeline has taken the last, the count is <paramref name="count"/>.</summary>
    public IAsyncEnumerable<int> Range(int count, CancellationToken cancellationToken = default) => Count(count, this, cancellationToken);

    /// <summary>
    /// Yields 0..<paramref name="count"/>-1, or 0, 1, 2, ... until the token is cancelled when <paramref name="count"/> is
    /// <see langword="null"/>, yielding the thread every 64 items; reports to <paramref name="progress"/>, when set, as each item is
    /// asked for. The source of <see cref="TestStages.Range"/> and <see cref="TestStages.Endless"/> too.
    /// </summary>
    internal static async IAsyncEnumerable<int> Count(int? count, SourceProgress? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var i = 0;
        for (; count is null ? !cancellationToken.IsCancellationRequested : i < count; i++)
        {
            progress?.Report(i);
            if (i % 64 == 0)
            {
                await Task.Yield();
            }

            yield return i;
        }

        progress?.Report(i);
    }

    /// <summary>Completes once the pipeline has taken at least <paramref name="count"/> items; fails the test after <see cref="TestStages.Bound"/>.</summary>
    public async Task WaitForTakenAsync(long count, string what)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((count, reached));
            Interlocked.Exchange(ref _nextWanted, Math.Min(Volatile.Read(ref _nextWanted), count));
        }

        // The waiter is published (a full fence) before this look, and the source publishes its count before it looks for
        // waiters: one of the two sees the other.
        if (Interlocked.Read(ref _taken) >= count)
        {
            Release();
        }

        try
        {
            await reached.Task.WaitAsync(TestStages.Bound);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out waiting for {what}: the source handed over {Interlocked.Read(ref _taken)} of {count} items.");
        }
    }

    /// <summary>Records that the source is asked for item <paramref name="taken"/> (0-based): the pipeline has taken that many.</summary>
    internal void Report(long taken)
    {
        Interlocked.Exchange(ref _taken, taken);
        if (taken >= Volatile.Read(ref _nextWanted))
        {
            Release();
        }
    }

    private void Release()
    {
        var taken = Interlocked.Read(ref _taken);
        lock (_waiters)
        {
            var next = long.MaxValue;
            for (var index = _waiters.Count - 1; index >= 0; index--)
            {
                var (count, reached) = _waiters[index];
                if (count <= taken)
                {
                    reached.TrySetResult();
                    _waiters.RemoveAt(index);
                }
                else
                {
                    next = Math.Min(next, count);
                }
            }

            Interlocked.Exchange(ref _nextWanted, next);
        }
    }
}
