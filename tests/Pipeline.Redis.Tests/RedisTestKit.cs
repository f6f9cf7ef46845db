using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Pipeline.Redis.Tests;

/// <summary>Shared pieces of the Redis stream tests: unique keys, producing, and pipelines that collect what they receive.</summary>
internal static class RedisTestKit
{
    /// <summary>The bound of every wait: generous for a loaded two-core machine.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static RedisStreamOptions Options(RedisServerFixture redis, string consumer, Action<RedisStreamOptions>? configure = null)
    {
        var options = new RedisStreamOptions
        {
            ConnectionString = redis.ConnectionString,
            Stream = "stream-" + Guid.NewGuid().ToString("N"),
            Group = "group",
            Consumer = consumer,
            BatchSize = 10,
        };
        configure?.Invoke(options);
        return options;
    }

    public static RedisStreamOptions WithConsumer(this RedisStreamOptions options, string consumer) => new()
    {
        ConnectionString = options.ConnectionString,
        Stream = options.Stream,
        Group = options.Group,
        Consumer = consumer,
        BatchSize = options.BatchSize,
        ClaimIdleTime = options.ClaimIdleTime,
        MaxDeliveries = options.MaxDeliveries,
        TrimAcknowledged = options.TrimAcknowledged,
    };

    /// <summary>Writes <paramref name="items"/> through a producer pipeline (batched sink) and checks its accounting.</summary>
    public static async Task ProduceAsync(RedisServerFixture redis, RedisStreamOptions options, IEnumerable<int> items)
    {
        var sink = new RedisStreamSink<int>(redis.Connection, options);
        var result = await new PipelineBuilder("produce")
            .From("read", items)
            .Batch("batch", size: 50, maxDelay: TimeSpan.FromMilliseconds(10))
            .To("write", sink.AsBatchSink())
            .Build()
            .RunAsync()
            .WaitAsync(Bound);
        Assert.True(result.IsAccounted, string.Join("; ", result.DescribeAccountingErrors()));
        Assert.Equal(PipelineStatus.Completed, result.Status);
    }

    /// <summary>Returns the stream's entries in order: id and item.</summary>
    public static async Task<(RedisValue Id, int Item)[]> EntriesAsync(RedisServerFixture redis, RedisStreamOptions options)
    {
        var entries = await redis.Database.StreamRangeAsync(options.Stream);
        return entries.Select(entry => (entry.Id, int.Parse(entry["item"].ToString(), System.Globalization.CultureInfo.InvariantCulture))).ToArray();
    }

    /// <summary>Returns the ids pending in the group (read, not acknowledged).</summary>
    public static async Task<HashSet<RedisValue>> PendingAsync(RedisServerFixture redis, RedisStreamOptions options)
    {
        var pending = await redis.Database.StreamPendingMessagesAsync(options.Stream, options.Group, 100_000, RedisValue.Null);
        return pending.Select(message => message.MessageId).ToHashSet();
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polled on the signal of each received item.</summary>
    public static async Task WaitForAsync(Func<bool> condition, SemaphoreSlim signal, string what)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
        {
            try
            {
                await signal.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out after {Bound} waiting for {what}");
            }
        }
    }
}

/// <summary>A consumer pipeline that records every item it sinks, in order, and signals each one.</summary>
internal sealed class Collector
{
    private readonly ConcurrentQueue<int> _items = new();

    public SemaphoreSlim Signal { get; } = new(0);

    public IReadOnlyList<int> Items => _items.ToArray();

    public Func<int, CancellationToken, ValueTask>? BeforeSink { get; init; }

    public PipelineRun Start(RedisStreamSource<int> source, string name = "consume") =>
        new PipelineBuilder(name)
            .FromRedisStream("read", source)
            .To("collect", async (int item, CancellationToken ct) =>
            {
                if (BeforeSink is { } before)
                {
                    await before(item, ct);
                }

                _items.Enqueue(item);
                Signal.Release();
            })
            .Build()
            .Start();
}

/// <summary>A dead-letter store in memory that signals each write.</summary>
internal sealed class MemoryDeadLetterStore : IDeadLetterStore
{
    private readonly ConcurrentQueue<DeadLetter> _letters = new();

    public SemaphoreSlim Signal { get; } = new(0);

    public IReadOnlyList<DeadLetter> Letters => _letters.ToArray();

    public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        _letters.Enqueue(deadLetter);
        Signal.Release();
        return default;
    }
}
