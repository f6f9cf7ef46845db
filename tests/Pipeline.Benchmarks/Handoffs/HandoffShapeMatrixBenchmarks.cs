using System.Globalization;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Pipeline.Handoffs;

namespace Pipeline.Benchmarks.Handoffs;

/// <summary>
/// Asynchronous throughput of the three handoff kinds in the shapes a pipeline uses: producers × consumers
/// {1×1, 1×4, 4×1, 2×2, 4×4, 8×8} × capacity {1, 4, 64, 1024}, the BCL bounded channel as the baseline of every
/// cell. Producers call <c>WriteAsync</c>; consumers read the way the engine does (<c>TryRead</c>, and
/// <c>WaitToReadAsync</c> when it finds nothing), each taking a fixed share. Each invoke moves <see cref="Items"/>
/// items; results are per item, so B/op is bytes per item.
/// </summary>
[MemoryDiagnoser]
public class HandoffShapeMatrixBenchmarks
{
    /// <summary>Items per invoke; divisible by every producer and consumer count.</summary>
    private const int Items = 48_000;

    private Channel<int> _bcl = null!;
    private Channel<int> _condition = null!;
    private Channel<int> _semaphore = null!;
    private int _producers;
    private int _consumers;

    /// <summary>
    /// Gets the shapes to measure, producers × consumers as "PxC": 1x1, 1x4, 4x1, 2x2, 4x4 and 8x8, or the comma-separated list in the
    /// <c>PIPELINE_BENCH_SHAPES</c> environment variable (for example <c>1x1,4x1</c>).
    /// </summary>
    public static IEnumerable<string> Shapes =>
        Environment.GetEnvironmentVariable("PIPELINE_BENCH_SHAPES") is { Length: > 0 } list
            ? list.Split(',')
            : ["1x1", "1x4", "4x1", "2x2", "4x4", "8x8"];

    /// <summary>Gets or sets the producers × consumers, as "PxC".</summary>
    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "1x1";

    /// <summary>
    /// Gets the capacities to measure: 1, 4, 64 and 1024, or the comma-separated list in the
    /// <c>PIPELINE_BENCH_CAPACITIES</c> environment variable (for example <c>1,4</c>) to measure a part of the matrix.
    /// </summary>
    public static IEnumerable<int> Capacities =>
        Environment.GetEnvironmentVariable("PIPELINE_BENCH_CAPACITIES") is { Length: > 0 } list
            ? list.Split(',').Select(value => int.Parse(value, CultureInfo.InvariantCulture))
            : [1, 4, 64, 1024];

    /// <summary>Gets or sets the capacity of the handoff.</summary>
    [ParamsSource(nameof(Capacities))]
    public int Capacity { get; set; } = 1024;

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Shape.Split('x', 'X');
        _producers = int.Parse(parts[0], CultureInfo.InvariantCulture);
        _consumers = int.Parse(parts[1], CultureInfo.InvariantCulture);
        _bcl = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Channel, Capacity = Capacity });
        _condition = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Condition, Capacity = Capacity });
        _semaphore = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = Capacity });
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public Task Bcl() => Run(_bcl);

    [Benchmark(OperationsPerInvoke = Items)]
    public Task Condition() => Run(_condition);

    [Benchmark(OperationsPerInvoke = Items)]
    public Task Semaphore() => Run(_semaphore);

    private Task Run(Channel<int> channel)
    {
        var workers = new Task[_producers + _consumers];
        int perProducer = Items / _producers;
        int perConsumer = Items / _consumers;
        for (int p = 0; p < _producers; p++)
        {
            workers[p] = Task.Run(() => Produce(channel.Writer, perProducer));
        }

        for (int c = 0; c < _consumers; c++)
        {
            workers[_producers + c] = Task.Run(() => Consume(channel.Reader, perConsumer));
        }

        return Task.WhenAll(workers);
    }

    private static async Task Produce(ChannelWriter<int> writer, int items)
    {
        for (int i = 0; i < items; i++)
        {
            await writer.WriteAsync(i).ConfigureAwait(false);
        }
    }

    private static async Task Consume(ChannelReader<int> reader, int items)
    {
        int taken = 0;
        while (taken < items)
        {
            if (reader.TryRead(out _))
            {
                taken++;
            }
            else
            {
                await reader.WaitToReadAsync().ConfigureAwait(false);
            }
        }
    }
}
