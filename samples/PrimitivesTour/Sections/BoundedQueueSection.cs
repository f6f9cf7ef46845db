using Pipeline.Primitives;

namespace PrimitivesTour.Sections;

/// <summary>
/// A work queue in the style of Python's <c>queue.Queue</c>: a producer fills a
/// <see cref="BoundedQueue{T}"/>, workers take items and mark each one done,
/// <see cref="BoundedQueue{T}.JoinAsync"/> waits until all are done, and
/// <see cref="BoundedQueue{T}.Shutdown"/> sends the idle workers home.
/// </summary>
internal sealed class BoundedQueueSection : Section
{
    private const int Capacity = 8;
    private const int Items = 5_000;
    private const int ThreadWorkers = 2;
    private const int TaskWorkers = 2;

    private readonly int[] _timesProcessed = new int[Items + 1];
    private readonly int[] _processedByWorker = new int[ThreadWorkers + TaskWorkers];

    public override string Id => "queue";

    public override string Title => "BoundedQueue<T>: workers, TaskDone/Join and Shutdown";

    public override async Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var queue = new BoundedQueue<int>(Capacity);
        var threads = new ThreadGroup();
        for (var i = 0; i < ThreadWorkers; i++)
        {
            var worker = i;
            threads.Start($"queue-worker-{worker}", () => Work(queue, worker, cancellationToken));
        }

        var tasks = new Task[TaskWorkers];
        for (var i = 0; i < TaskWorkers; i++)
        {
            var worker = ThreadWorkers + i;
            tasks[i] = Task.Run(() => WorkAsync(queue, worker, cancellationToken), cancellationToken);
        }

        for (var item = 1; item <= Items; item++)
        {
            await queue.PutAsync(item, cancellationToken);
        }

        await queue.JoinAsync(cancellationToken).AsTask().WaitAsync(WaitTimeout, cancellationToken);
        var exactlyOnceAtJoin = _timesProcessed.Skip(1).All(times => times == 1);
        output.WriteLine($"  {Items:N0} items through a queue of {Capacity} to {ThreadWorkers + TaskWorkers} workers; after Join every item processed exactly once: {exactlyOnceAtJoin}");
        output.WriteLine($"  items per worker: {string.Join(", ", _processedByWorker)} (threads use Take, tasks use TakeAsync)");

        queue.Shutdown();
        threads.JoinAll();
        await Task.WhenAll(tasks).WaitAsync(WaitTimeout, cancellationToken);
        var putRefused = PutIsRefused(queue);
        output.WriteLine($"  Shutdown(): all workers left their Take loop; a later Put throws QueueShutDownException: {putRefused}");

        var pending = new BoundedQueue<string>(Capacity);
        pending.Put("a", cancellationToken);
        pending.Put("b", cancellationToken);
        pending.Put("c", cancellationToken);
        var undelivered = pending.ShutdownNow();
        output.WriteLine($"  ShutdownNow() on a queue holding a, b, c hands back: {string.Join(", ", undelivered)}");

        var held = exactlyOnceAtJoin
            && _processedByWorker.Sum() == Items
            && putRefused
            && queue.IsShutdown
            && undelivered.SequenceEqual(["a", "b", "c"]);
        return new CheckResult(held, $"all {Items:N0} items processed exactly once before Join returned, then Shutdown stopped every worker");
    }

    private void Work(BoundedQueue<int> queue, int worker, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                Process(queue.Take(cancellationToken), worker);
                queue.TaskDone();
            }
        }
        catch (QueueShutDownException)
        {
            // Shut down and drained: the worker's job is over.
        }
    }

    private async Task WorkAsync(BoundedQueue<int> queue, int worker, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                Process(await queue.TakeAsync(cancellationToken), worker);
                queue.TaskDone();
            }
        }
        catch (QueueShutDownException)
        {
            // Shut down and drained: the worker's job is over.
        }
    }

    private void Process(int item, int worker)
    {
        Interlocked.Increment(ref _timesProcessed[item]);
        _processedByWorker[worker]++;
    }

    private static bool PutIsRefused(BoundedQueue<int> queue)
    {
        try
        {
            queue.Put(-1);
            return false;
        }
        catch (QueueShutDownException)
        {
            return true;
        }
    }
}
