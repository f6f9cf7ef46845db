using System.Diagnostics;
using Pipeline.Primitives;

namespace Pipeline.HandoffPressure;

/// <summary>
/// The <see cref="BoundedQueue{T}"/> calls that do not wait (<c>TryPut</c>, <c>TryTake</c>, <c>TaskDone</c>) on a thread pool
/// whose every thread is busy: asynchronous puts queue for the queue's lock while two threads contend for it, and their
/// continuations cannot run. A lock handed to one of them would be held by a party that never runs, and every later call
/// would wait for it. Prints the longest call; exit code 0 when every round's calls returned within 5 s, 1 otherwise.
/// </summary>
internal static class QueueProbe
{
    private const int Rounds = 20;
    private static readonly TimeSpan CallBound = TimeSpan.FromSeconds(5);

    public static int Run()
    {
        if (!ThreadPool.SetMinThreads(2, 2) || !ThreadPool.SetMaxThreads(2, 2))
        {
            Console.Error.WriteLine("could not limit the thread pool to 2 threads");
            return 2;
        }

        // Both pool threads held by user work: no continuation runs until the gate opens.
        using var poolGate = new ManualResetEventSlim();
        using var poolHeld = new CountdownEvent(2);
        for (int i = 0; i < 2; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ => { poolHeld.Signal(); poolGate.Wait(); }, null);
        }

        if (!poolHeld.Wait(TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine("the pool threads did not start");
            return 2;
        }

        TimeSpan longest = TimeSpan.Zero;
        try
        {
            for (int round = 0; round < Rounds; round++)
            {
                TimeSpan call = RunRound(out string? failure);
                longest = call > longest ? call : longest;
                if (failure is not null)
                {
                    Console.WriteLine($"FAILED in round {round}: {failure}");
                    return 1;
                }
            }
        }
        finally
        {
            poolGate.Set();
        }

        Console.WriteLine($"longest={longest.TotalMilliseconds:F1}");
        return 0;
    }

    private static TimeSpan RunRound(out string? failure)
    {
        var queue = new BoundedQueue<int>(1_000);
        using var stop = new CancellationTokenSource();
        var hammers = new Thread[2];
        for (int i = 0; i < hammers.Length; i++)
        {
            hammers[i] = new Thread(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if (queue.TryPut(1) && queue.TryTake(out _))
                    {
                        queue.TaskDone();
                    }
                }
            }) { IsBackground = true };
            hammers[i].Start();
        }

        // Puts that find the lock held queue for it; their continuations cannot run while the pool is held. Each is given
        // the lock's hand-over bound (1 ms) to be overtaken in.
        var started = Stopwatch.StartNew();
        var puts = new List<Task>();
        while (started.Elapsed < TimeSpan.FromMilliseconds(100))
        {
            puts.Add(queue.PutAsync(2).AsTask());
            Thread.SpinWait(2_000);
        }

        TimeSpan longest = TimeSpan.Zero;
        failure = null;
        foreach (var (name, call) in new (string, Action)[]
        {
            ("TryTake", () => queue.TryTake(out _)),
            ("TryPut", () => queue.TryPut(3)),
            ("TaskDone", () =>
            {
                // Marks an item this call took itself, so that the hammers' own TaskDone calls stay matched.
                if (queue.TryPut(4) && queue.TryTake(out _))
                {
                    queue.TaskDone();
                }
            }),
        })
        {
            var elapsed = Stopwatch.StartNew();
            var probe = new Thread(() => call()) { IsBackground = true };
            probe.Start();
            if (!probe.Join(CallBound))
            {
                failure = $"{name} did not return within {CallBound.TotalSeconds:F0} s while asynchronous puts waited for the lock";
                break;
            }

            longest = elapsed.Elapsed > longest ? elapsed.Elapsed : longest;
        }

        stop.Cancel();
        foreach (var hammer in hammers)
        {
            if (failure is null && !hammer.Join(CallBound))
            {
                failure = "a thread calling TryPut and TryTake did not stop within 5 s";
            }
        }

        return longest;
    }
}
