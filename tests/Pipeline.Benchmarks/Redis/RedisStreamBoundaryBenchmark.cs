using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Pipeline.Redis;
using StackExchange.Redis;

namespace Pipeline.Benchmarks.Redis;

/// <summary>
/// Items per second across a stage boundary: producer pipeline → Redis stream (batched <c>XADD</c>) → consumer pipeline(s) with a
/// no-op sink, on a redis-server started on loopback for the run; one versus two consumers in the group, and the in-process
/// handoff (one pipeline, same no-op sink) beside them. Reported per item. Needs <c>redis-server</c> on PATH.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class RedisStreamBoundaryBenchmark
{
    private const int Items = 100_000;
    private const int BatchSize = 500;
    private Process? _server;
    private ConnectionMultiplexer _connection = null!;
    private string _connectionString = null!;

    [GlobalSetup]
    public void Setup()
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _connectionString = $"127.0.0.1:{port}";
            var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
            {
                start.ArgumentList.Add(argument);
            }

            listener.Stop();
            _server = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        }

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                _connection = ConnectionMultiplexer.Connect(_connectionString);
                return;
            }
            catch (RedisConnectionException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(100);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection.Dispose();
        _server?.Kill();
        _server?.WaitForExit();
        _server?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public async Task<long> InProcessHandoff()
    {
        var count = 0L;
        var result = await new PipelineBuilder("in-process")
            .From("read", Enumerable.Range(0, Items))
            .To("noop", _ => count++)
            .Build()
            .RunAsync()
            .ConfigureAwait(false);
        return result.Sunk;
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> RedisOneConsumer() => AcrossRedisAsync(consumers: 1);

    [Benchmark(OperationsPerInvoke = Items)]
    public Task<long> RedisTwoConsumers() => AcrossRedisAsync(consumers: 2);

    private async Task<long> AcrossRedisAsync(int consumers)
    {
        var options = new RedisStreamOptions { Stream = "bench-" + Guid.NewGuid().ToString("N"), Group = "bench", BatchSize = BatchSize };
        var received = 0L;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new List<PipelineRun>();
        for (var index = 0; index < consumers; index++)
        {
            options.Consumer = "consumer-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var source = new RedisStreamSource<int>(_connection, options);
            runs.Add(new PipelineBuilder("consume-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .From("read", source)
                .To("noop", _ =>
                {
                    if (Interlocked.Increment(ref received) == Items)
                    {
                        all.TrySetResult();
                    }
                })
                .Build()
                .Start());
        }

        var sink = new RedisStreamSink<int>(_connection, options);
        var produced = await new PipelineBuilder("produce")
            .From("read", Enumerable.Range(0, Items))
            .Batch("batch", size: BatchSize, maxDelay: TimeSpan.FromMilliseconds(5))
            .To("write", sink.AsBatchSink(), stage => stage.Parallelism = 4)
            .Build()
            .RunAsync()
            .ConfigureAwait(false);
        await all.Task.WaitAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        foreach (var run in runs)
        {
            run.RequestStop();
        }

        foreach (var run in runs)
        {
            await run.Completion.ConfigureAwait(false);
        }

        await _connection.GetDatabase().KeyDeleteAsync(options.Stream).ConfigureAwait(false);
        return produced.Sunk;
    }
}
