namespace Pipeline.Benchmarks.Primitives;

/// <summary>
/// A fixed set of dedicated threads that run one piece of work per <see cref="Run"/>, all
/// starting together. Reusing the threads keeps thread start-up and task allocation out of the
/// measured operation; lining them up before the work keeps the first woken thread from doing
/// its share alone, which would measure no contention at all.
/// </summary>
internal sealed class WorkerGroup : IDisposable
{
    private readonly Barrier _barrier;
    private readonly Thread[] _threads;

    /// <summary>Workers that have started the current round; each round begins once all have.</summary>
    private int _running;

    /// <summary>The work for the current round, given the worker's index; null tells the workers to exit.</summary>
    private volatile Action<int>? _work;

    public WorkerGroup(int workers)
    {
        _barrier = new Barrier(workers + 1);
        _threads = new Thread[workers];
        for (var i = 0; i < workers; i++)
        {
            var index = i;
            _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"bench-worker-{index}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <paramref name="work"/> on every worker at once and returns when all have finished.</summary>
    public void Run(Action<int> work)
    {
        _work = work;
        _running = 0;
        _barrier.SignalAndWait();
        _barrier.SignalAndWait();
    }

    public void Dispose()
    {
        _work = null;
        _barrier.SignalAndWait();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _barrier.Dispose();
    }

    private void Loop(int index)
    {
        while (true)
        {
            _barrier.SignalAndWait();
            var work = _work;
            if (work is null)
            {
                return;
            }

            Interlocked.Increment(ref _running);
            while (Volatile.Read(ref _running) < _threads.Length)
            {
                Thread.Yield();
            }

            work(index);
            _barrier.SignalAndWait();
        }
    }
}
