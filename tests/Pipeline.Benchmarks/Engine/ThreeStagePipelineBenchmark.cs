using System.Threading.Channels;
using System.Threading.Tasks.Dataflow;
using BenchmarkDotNet.Attributes;
using Pipeline.Handoffs;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// Source of 1,000,000 ints → x + 1 → x * 2 → sum, through bounded handoffs of the same capacity: TPL Dataflow (baseline),
/// three hand-wired BCL channels with one task per stage, and the engine with each handoff kind. Reported per item.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class ThreeStagePipelineBenchmark
{
    /// <summary>Items per run.</summary>
    internal const int Items = 1_000_000;
    private const int Capacity = 1024;

    private static long Expected => 2L * Items * (Items + 1) / 2;

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public async Task<long> Dataflow()
    {
        var sum = 0L;
        var bounded = new ExecutionDataflowBlockOptions { BoundedCapacity = Capacity };
        var link = new DataflowLinkOptions { PropagateCompletion = true };
        var increment = new TransformBlock<int, int>(x => x + 1, bounded);
        var twice = new TransformBlock<int, int>(x => x * 2, bounded);
        var total = new ActionBlock<int>(x => sum += x, bounded);
        increment.LinkTo(twice, link);
        twice.LinkTo(total, link);
        for (var i = 0; i < Items; i++)
        {
            if (!increment.Post(i))
            {
                await increment.SendAsync(i).ConfigureAwait(false);
            }
        }

        increment.Complete();
        await total.Completion.ConfigureAwait(false);
        return Check(sum);
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public async Task<long> HandWiredChannels()
    {
        var numbers = Channel.CreateBounded<int>(new BoundedChannelOptions(Capacity));
        var incremented = Channel.CreateBounded<int>(new BoundedChannelOptions(Capacity));
        var doubled = Channel.CreateBounded<int>(new BoundedChannelOptions(Capacity));
        var produce = Task.Run(async () =>
        {
            for (var i = 0; i < Items; i++)
            {
                if (!numbers.Writer.TryWrite(i))
                {
                    await numbers.Writer.WriteAsync(i).ConfigureAwait(false);
                }
            }

            numbers.Writer.Complete();
        });
        var increment = Task.Run(() => StageAsync(numbers.Reader, incremented.Writer, x => x + 1));
        var twice = Task.Run(() => StageAsync(incremented.Reader, doubled.Writer, x => x * 2));
        var total = Task.Run(async () =>
        {
            var sum = 0L;
            var reader = doubled.Reader;
            do
            {
                while (reader.TryRead(out var x))
                {
                    sum += x;
                }
            }
            while (await reader.WaitToReadAsync().ConfigureAwait(false));
            return sum;
        });
        await Task.WhenAll(produce, increment, twice).ConfigureAwait(false);
        return Check(await total.ConfigureAwait(false));
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> EngineCondition() => EngineAsync(HandoffKind.Condition);

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> EngineSemaphore() => EngineAsync(HandoffKind.Semaphore);

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> EngineChannel() => EngineAsync(HandoffKind.Channel);

    /// <summary>The engine over a plain asynchronous source: the baseline of <see cref="EngineAcknowledging"/>.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> EnginePlainAsyncSource() => EngineFromAsync(acknowledging: false);

    /// <summary>The same with an acknowledging source: every item is tracked until sunk, and the watermark acknowledged.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> EngineAcknowledging() => EngineFromAsync(acknowledging: true);

    /// <summary>Runs the chain once from <see cref="NumberSource"/>, plain or acknowledging (also used by <see cref="AcknowledgementOverheadHarness"/>).</summary>
    internal static async Task<long> EngineFromAsync(bool acknowledging)
    {
        var sum = 0L;
        var builder = new PipelineBuilder("bench");
        builder.Handoff.Kind = HandoffKind.Channel;
        builder.Handoff.Capacity = Capacity;
        var source = new NumberSource();
        var from = acknowledging ? builder.From("numbers", (IAcknowledgingSource<int>)source) : builder.From("numbers", (ISource<int>)source);
        var pipeline = from
            .Then("increment", x => x + 1)
            .Then("double", x => x * 2)
            .To("sum", x => sum += x)
            .Build();
        var result = await pipeline.RunAsync().ConfigureAwait(false);
        if (result.Status != PipelineStatus.Completed)
        {
            throw new InvalidOperationException(result.ToString(), result.Exception);
        }

        return Check(sum);
    }

    private static async Task<long> EngineAsync(HandoffKind kind)
    {
        var sum = 0L;
        var builder = new PipelineBuilder("bench");
        builder.Handoff.Kind = kind;
        builder.Handoff.Capacity = Capacity;
        var pipeline = builder
            .From("numbers", Enumerable.Range(0, Items))
            .Then("increment", x => x + 1)
            .Then("double", x => x * 2)
            .To("sum", x => sum += x)
            .Build();
        var result = await pipeline.RunAsync().ConfigureAwait(false);
        if (result.Status != PipelineStatus.Completed)
        {
            throw new InvalidOperationException(result.ToString(), result.Exception);
        }

        return Check(sum);
    }

    private static async Task StageAsync(ChannelReader<int> reader, ChannelWriter<int> writer, Func<int, int> transform)
    {
        do
        {
            while (reader.TryRead(out var x))
            {
                var y = transform(x);
                if (!writer.TryWrite(y))
                {
                    await writer.WriteAsync(y).ConfigureAwait(false);
                }
            }
        }
        while (await reader.WaitToReadAsync().ConfigureAwait(false));
        writer.Complete();
    }

    /// <summary>0..Items-1 as a plain asynchronous source, or as an acknowledging one at positions 1..Items.</summary>
    private sealed class NumberSource : ISource<int>, IAcknowledgingSource<int>
    {
        public long Acknowledged { get; private set; }

        async IAsyncEnumerable<int> ISource<int>.ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stoppingToken)
        {
            for (var i = 0; i < Items; i++)
            {
                if (i % 1024 == 0)
                {
                    await Task.Yield();
                }

                yield return i;
            }
        }

        async IAsyncEnumerable<PositionedItem<int>> IAcknowledgingSource<int>.ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stoppingToken)
        {
            for (var i = 0; i < Items; i++)
            {
                if (i % 1024 == 0)
                {
                    await Task.Yield();
                }

                yield return new PositionedItem<int>(i, i + 1);
            }
        }

        public ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken)
        {
            Acknowledged = position;
            return default;
        }
    }

    private static long Check(long sum) =>
        sum == Expected ? sum : throw new InvalidOperationException($"Sum {sum}, expected {Expected}.");
}
