using Pipeline.Primitives;

namespace PrimitivesTour.Sections;

/// <summary>
/// Several threads add to one counter. Without a lock, "read, add one, write back" interleaves
/// and updates are lost; under an <see cref="ExclusiveLock"/> the total is exact.
/// </summary>
internal sealed class SharedCounterSection : Section
{
    private const int Threads = 4;
    private const int UnlockedIncrementsPerThread = 500_000;
    private const int LockedIncrementsPerThread = 25_000;

    private int _counter;
    private int _running;

    public override string Id => "counter";

    public override string Title => "A shared counter, without and with ExclusiveLock";

    public override Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        const int unlockedExpected = Threads * UnlockedIncrementsPerThread;
        var unlocked = Count(UnlockedIncrementsPerThread, IncrementWithoutLock);
        var lost = unlockedExpected - unlocked;
        output.WriteLine(
            $"  without a lock: {Threads} threads x {UnlockedIncrementsPerThread:N0} increments -> {unlocked:N0} of {unlockedExpected:N0}"
            + (lost > 0 ? $" ({lost:N0} updates lost)" : " (no update lost this time: the race is luck, not a guarantee)"));

        const int lockedExpected = Threads * LockedIncrementsPerThread;
        var counterLock = new ExclusiveLock();
        var locked = Count(LockedIncrementsPerThread, () =>
        {
            using (counterLock.Lock(cancellationToken))
            {
                IncrementWithoutLock();
            }
        });
        output.WriteLine(
            $"  with ExclusiveLock: {Threads} threads x {LockedIncrementsPerThread:N0} increments -> {locked:N0} of {lockedExpected:N0}");
        output.WriteLine($"  after the run the lock is free again: IsLocked = {counterLock.IsLocked}");

        return Task.FromResult(new CheckResult(
            locked == lockedExpected && !counterLock.IsLocked,
            $"the locked total is exact ({locked:N0} of {lockedExpected:N0})"));
    }

    /// <summary>Python's <c>counter += 1</c>: a separate read and write that another thread can slip between.</summary>
    private void IncrementWithoutLock()
    {
        var seen = Volatile.Read(ref _counter);

        // A moment of "work" between the read and the write, as in the Python tutorials'
        // temp = counter; ...; counter = temp + 1: it widens the window another thread can slip
        // into, so the loss shows even on a busy machine where the threads rarely run at once.
        Thread.SpinWait(1);
        Volatile.Write(ref _counter, seen + 1);
    }

    /// <summary>
    /// Woken threads start one after another; lining them up once more keeps an early thread from
    /// finishing its loop before the others have begun, so the race is real. Bounded, and yielding,
    /// because there may be fewer cores than threads.
    /// </summary>
    private void WaitForEveryoneRunning()
    {
        Interlocked.Increment(ref _running);
        var deadline = Environment.TickCount64 + 1_000;
        while (Volatile.Read(ref _running) < Threads && Environment.TickCount64 < deadline)
        {
            Thread.Yield();
        }
    }

    private int Count(int incrementsPerThread, Action increment)
    {
        _counter = 0;
        _running = 0;
        var startGun = new Event();
        var threads = new ThreadGroup();
        for (var i = 0; i < Threads; i++)
        {
            threads.Start($"counter-{i}", () =>
            {
                Expect(startGun.Wait(WaitTimeout), "the start signal");
                WaitForEveryoneRunning();
                for (var n = 0; n < incrementsPerThread; n++)
                {
                    increment();
                }
            });
        }

        startGun.Set();
        threads.JoinAll();
        return Volatile.Read(ref _counter);
    }
}
