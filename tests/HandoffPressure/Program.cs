using System.Globalization;
using System.Threading.Channels;
using Pipeline.Handoffs;
using Pipeline.Handoffs.Shapes;

// Runs 8 producers x 8 consumers at capacity 4 on a thread pool of at most 4 threads, first on the BCL bounded
// channel and then on the handoff kind named by the first argument, and prints both times in milliseconds:
// "bcl=<ms> kind=<ms>". Exit code 0 when both delivered every item exactly once in time, 1 otherwise. With the one argument
// "queue", probes BoundedQueue's calls that do not wait on a pool of 2 busy threads instead (QueueProbe).
const int Producers = 8;
const int Consumers = 8;
const int Capacity = 4;
const int PoolThreads = 4;

if (args.Length == 1 && args[0] == "queue")
{
    return Pipeline.HandoffPressure.QueueProbe.Run();
}

if (args.Length < 2 || !Enum.TryParse(args[0], out HandoffKind kind) || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int itemsPerProducer))
{
    Console.Error.WriteLine("usage: HandoffPressure <Condition|Semaphore|Channel> <items per producer>");
    return 2;
}

if (!ThreadPool.SetMinThreads(PoolThreads, PoolThreads) || !ThreadPool.SetMaxThreads(PoolThreads, PoolThreads))
{
    Console.Error.WriteLine($"could not limit the thread pool to {PoolThreads} threads");
    return 2;
}

TimeSpan deadline = TimeSpan.FromSeconds(60);
try
{
    TimeSpan bcl = await Run(HandoffKind.Channel);
    TimeSpan ours = await Run(kind);
    Console.WriteLine(FormattableString.Invariant($"bcl={bcl.TotalMilliseconds:F1} kind={ours.TotalMilliseconds:F1} threads={ThreadPool.ThreadCount}"));
    return 0;
}
catch (Exception error) when (error is TimeoutException or InvalidOperationException)
{
    Console.WriteLine($"FAILED: {error.Message}");
    return 1;
}

Task<TimeSpan> Run(HandoffKind runKind)
{
    Channel<int> channel = Handoff.Create<int>(new HandoffOptions { Kind = runKind, Capacity = Capacity });
    return ShapeWorkload.RunAsync(channel, Producers, Consumers, itemsPerProducer, ReadPattern.WaitToReadThenTryRead, deadline);
}
