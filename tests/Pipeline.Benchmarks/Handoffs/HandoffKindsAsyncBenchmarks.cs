using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Pipeline.Handoffs;

namespace Pipeline.Benchmarks.Handoffs;

/// <summary>
/// Asynchronous throughput of the three handoff kinds side by side, the BCL bounded channel as baseline: one producer
/// and one consumer, then two of each. Each invoke moves <see cref="Items"/> items; results are per item.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class HandoffKindsAsyncBenchmarks
{
    private const int Items = 100_000;
    private const int Capacity = 1024;

    private Channel<int> _bcl = null!;
    private Channel<int> _condition = null!;
    private Channel<int> _semaphore = null!;

    [GlobalSetup]
    public void Setup()
    {
        _bcl = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Channel, Capacity = Capacity });
        _condition = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Condition, Capacity = Capacity });
        _semaphore = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = Capacity });
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [BenchmarkCategory("SPSC")]
    public Task Spsc_Bcl() => Spsc(_bcl);

    [Benchmark(OperationsPerInvoke = Items)]
    [BenchmarkCategory("SPSC")]
    public Task Spsc_Condition() => Spsc(_condition);

    [Benchmark(OperationsPerInvoke = Items)]
    [BenchmarkCategory("SPSC")]
    public Task Spsc_Semaphore() => Spsc(_semaphore);

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [BenchmarkCategory("2x2")]
    public Task TwoByTwo_Bcl() => TwoByTwo(_bcl);

    [Benchmark(OperationsPerInvoke = Items)]
    [BenchmarkCategory("2x2")]
    public Task TwoByTwo_Condition() => TwoByTwo(_condition);

    [Benchmark(OperationsPerInvoke = Items)]
    [BenchmarkCategory("2x2")]
    public Task TwoByTwo_Semaphore() => TwoByTwo(_semaphore);

    private static Task Spsc(Channel<int> channel) =>
        Task.WhenAll(Task.Run(() => Produce(channel.Writer, Items)), Consume(channel.Reader, Items));

    private static Task TwoByTwo(Channel<int> channel) =>
        Task.WhenAll(
            Task.Run(() => Produce(channel.Writer, Items / 2)),
            Task.Run(() => Produce(channel.Writer, Items / 2)),
            Task.Run(() => Consume(channel.Reader, Items / 2)),
            Task.Run(() => Consume(channel.Reader, Items / 2)));

    private static async Task Produce(ChannelWriter<int> writer, int items)
    {
        for (int i = 0; i < items; i++)
        {
            await writer.WriteAsync(i).ConfigureAwait(false);
        }
    }

    private static async Task Consume(ChannelReader<int> reader, int items)
    {
        for (int i = 0; i < items; i++)
        {
            await reader.ReadAsync().ConfigureAwait(false);
        }
    }
}
