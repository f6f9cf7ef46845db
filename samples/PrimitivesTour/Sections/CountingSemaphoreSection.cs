using Pipeline.Primitives;

namespace PrimitivesTour.Sections;

/// <summary>
/// A <see cref="CountingSemaphore"/> with three permits lets at most three of ten workers into
/// the "connection pool" at once; the rest wait their turn (asynchronously here).
/// </summary>
internal sealed class CountingSemaphoreSection : Section
{
    private const int Permits = 3;
    private const int Workers = 10;

    private int _inside;
    private int _peak;

    public override string Id => "semaphore";

    public override string Title => "CountingSemaphore: at most 3 workers at a time";

    public override async Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var pool = new CountingSemaphore(Permits);
        var workers = new Task[Workers];
        for (var i = 0; i < Workers; i++)
        {
            workers[i] = Task.Run(() => WorkAsync(pool, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers).WaitAsync(WaitTimeout, cancellationToken);

        output.WriteLine($"  {Workers} workers, {Permits} permits: peak concurrency {_peak}");
        output.WriteLine($"  afterwards CurrentCount = {pool.CurrentCount} (all permits back)");
        return new CheckResult(
            _peak <= Permits && _peak >= 1 && pool.CurrentCount == Permits,
            $"peak concurrency {_peak} <= {Permits} permits, and every permit came back");
    }

    private async Task WorkAsync(CountingSemaphore pool, CancellationToken cancellationToken)
    {
        Expect(await pool.TryAcquireAsync(WaitTimeout, cancellationToken), "a permit");
        try
        {
            var inside = Interlocked.Increment(ref _inside);
            InterlockedMax(ref _peak, inside);

            // Hold the permit long enough for the others to pile up at the door.
            await Task.Delay(15, cancellationToken);
            Interlocked.Decrement(ref _inside);
        }
        finally
        {
            pool.Release();
        }
    }

    private static void InterlockedMax(ref int location, int value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
