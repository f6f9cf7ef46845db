using Pipeline.Primitives;

namespace PrimitivesTour.Sections;

/// <summary>
/// A <see cref="ReentrantLock"/> may be taken again by the thread that owns it: each nested
/// scope raises <see cref="ReentrantLock.RecursionCount"/>, and the lock is free only once the
/// outermost scope ends. An <see cref="ExclusiveLock"/> is not re-entrant.
/// </summary>
internal sealed class ReentrantLockSection : Section
{
    /// <summary>How many scopes are nested inside the outermost one.</summary>
    private const int Depth = 3;

    private readonly ReentrantLock _lock = new();
    private readonly List<int> _countsOnTheWayDown = [];

    public override string Id => "reentrant";

    public override string Title => "ReentrantLock: the owner may lock again";

    public override Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        bool? otherThreadGotItWhileHeld = null;
        using (_lock.Lock(cancellationToken))
        {
            _countsOnTheWayDown.Add(_lock.RecursionCount);
            Descend(1, cancellationToken);
            output.WriteLine($"  nested Lock() scopes, RecursionCount at each depth: {string.Join(" -> ", _countsOnTheWayDown)}");
            output.WriteLine($"  back in the outermost scope: RecursionCount = {_lock.RecursionCount}, IsHeldByCurrentThread = {_lock.IsHeldByCurrentThread}");

            var threads = new ThreadGroup();
            threads.Start("reentrant-other", () =>
            {
                otherThreadGotItWhileHeld = _lock.TryAcquire();
                if (otherThreadGotItWhileHeld == true)
                {
                    _lock.Release();
                }
            });
            threads.JoinAll();
            output.WriteLine($"  another thread's TryAcquire() while this thread owns it: {otherThreadGotItWhileHeld}");
        }

        var freeAfterwards = !_lock.IsHeldByCurrentThread && _lock.RecursionCount == 0;
        output.WriteLine($"  after the outermost scope: RecursionCount = {_lock.RecursionCount}, IsHeldByCurrentThread = {_lock.IsHeldByCurrentThread}");

        bool otherThreadGotItAfterwards = false;
        var after = new ThreadGroup();
        after.Start("reentrant-after", () =>
        {
            otherThreadGotItAfterwards = _lock.TryAcquire(WaitTimeout, cancellationToken);
            if (otherThreadGotItAfterwards)
            {
                _lock.Release();
            }
        });
        after.JoinAll();
        output.WriteLine($"  another thread's TryAcquire(timeout) once released: {otherThreadGotItAfterwards}");

        var exclusive = new ExclusiveLock();
        exclusive.Acquire(cancellationToken);
        var exclusiveTakenTwice = exclusive.TryAcquire();
        exclusive.Release();
        output.WriteLine($"  by contrast, ExclusiveLock.TryAcquire() by its own holder: {exclusiveTakenTwice} (not re-entrant)");

        int[] expected = [.. Enumerable.Range(1, Depth + 1)];
        var held = _countsOnTheWayDown.SequenceEqual(expected)
            && freeAfterwards
            && otherThreadGotItWhileHeld == false
            && otherThreadGotItAfterwards
            && !exclusiveTakenTwice;
        return Task.FromResult(new CheckResult(
            held,
            $"RecursionCount rose to {Depth + 1} and fell to 0; other threads were kept out until the last release"));
    }

    private void Descend(int depth, CancellationToken cancellationToken)
    {
        if (depth > Depth)
        {
            return;
        }

        using (_lock.Lock(cancellationToken))
        {
            _countsOnTheWayDown.Add(_lock.RecursionCount);
            Descend(depth + 1, cancellationToken);
        }
    }
}
