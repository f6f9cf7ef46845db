using StackExchange.Redis;
using static Pipeline.Redis.Tests.RedisTestKit;

namespace Pipeline.Redis.Tests;

/// <summary>Items crossing a real Redis stream: order, sharing a group, graceful stop, poison entries, dead consumers, restarts.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamSourceTests(RedisServerFixture redis)
{
    [Fact(Timeout = 120_000)]
    public async Task OneConsumer_ItemsCrossTheStreamExactlyOnceInOrder()
    {
        var options = Options(redis, "only");
        await ProduceAsync(redis, options, Enumerable.Range(1, 1000));
        var collector = new Collector();

        var run = collector.Start(new RedisStreamSource<int>(redis.Connection, options));
        await WaitForAsync(() => collector.Items.Count >= 1000, collector.Signal, "1000 items");
        run.RequestStop();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.True(result.IsAccounted, string.Join("; ", result.DescribeAccountingErrors()));
        Assert.Equal(Enumerable.Range(1, 1000), collector.Items);
        Assert.Empty(await PendingAsync(redis, options));
    }

    [Fact(Timeout = 120_000)]
    public async Task TwoConsumersInOneGroup_ShareTheStream_EachItemProcessedOnce()
    {
        var options = Options(redis, "first");
        await ProduceAsync(redis, options, Enumerable.Range(1, 2000));
        var secondGotOne = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The first consumer holds its first item until the second has one: both must take part, whoever polls first.
        var first = new Collector { BeforeSink = (_, ct) => new ValueTask(secondGotOne.Task.WaitAsync(ct)) };
        var second = new Collector
        {
            BeforeSink = (_, _) =>
            {
                secondGotOne.TrySetResult();
                return default;
            },
        };
        var firstRun = first.Start(new RedisStreamSource<int>(redis.Connection, options), "consume-1");
        var secondRun = second.Start(new RedisStreamSource<int>(redis.Connection, options.WithConsumer("second")), "consume-2");

        var both = new SemaphoreSlim(0);
        _ = Forward(first.Signal, both);
        _ = Forward(second.Signal, both);
        await WaitForAsync(() => first.Items.Count + second.Items.Count >= 2000, both, "2000 items between two consumers");
        firstRun.RequestStop();
        secondRun.RequestStop();
        await Task.WhenAll(firstRun.Completion, secondRun.Completion).WaitAsync(Bound);

        Assert.NotEmpty(first.Items);
        Assert.NotEmpty(second.Items);
        Assert.Equal(Enumerable.Range(1, 2000), first.Items.Concat(second.Items).Order());
        Assert.Empty(await PendingAsync(redis, options));
    }

    [Fact(Timeout = 120_000)]
    public async Task GracefulStop_AcknowledgesWhatWasAccountedFor_AndNothingElse()
    {
        // Entries are kept after they are acknowledged, so that what was acknowledged can be read back.
        var options = Options(redis, "stopping", o => o.TrimAcknowledged = false);
        await ProduceAsync(redis, options, Enumerable.Range(1, 200));
        PipelineRun? run = null;
        var collector = new Collector
        {
            BeforeSink = (item, _) =>
            {
                if (item == 25)
                {
                    run!.RequestStop();
                }

                return default;
            },
        };

        run = collector.Start(new RedisStreamSource<int>(redis.Connection, options));
        var result = await run.Completion.WaitAsync(Bound);

        Assert.True(result.IsAccounted, string.Join("; ", result.DescribeAccountingErrors()));
        var entries = await EntriesAsync(redis, options);
        var pending = await PendingAsync(redis, options);
        var sunk = collector.Items.ToHashSet();
        var lastDelivered = ParseId((await redis.Database.StreamGroupInfoAsync(options.Stream)).Single().LastDeliveredId!);
        var acknowledged = entries.Where(entry => !pending.Contains(entry.Id) && ParseId(entry.Id!).CompareTo(lastDelivered) <= 0).Select(entry => entry.Item).ToHashSet();

        // Every sunk item acknowledged, and every acknowledged one sunk; what was read but not yielded stays pending.
        Assert.Contains(25, sunk);
        Assert.True(sunk.SetEquals(acknowledged), $"sunk {string.Join(",", sunk.Order())} vs acknowledged {string.Join(",", acknowledged.Order())}");
        Assert.True(sunk.Count < 200, "the stop came before the end of the stream");
        Assert.DoesNotContain(entries.Where(entry => pending.Contains(entry.Id)), entry => sunk.Contains(entry.Item));
    }

    [Fact(Timeout = 120_000)]
    public async Task SecondRunOfTheSameSource_ReReadsWhatTheFirstReadButNeverYielded_EachItemOnce()
    {
        var options = Options(redis, "rerun");
        await ProduceAsync(redis, options, Enumerable.Range(1, 100));
        var source = new RedisStreamSource<int>(redis.Connection, options);
        PipelineRun? firstRun = null;
        var first = new Collector
        {
            BeforeSink = (item, _) =>
            {
                if (item == 5)
                {
                    firstRun!.RequestStop();
                }

                return default;
            },
        };
        firstRun = first.Start(source);
        await firstRun.Completion.WaitAsync(Bound);
        Assert.NotEmpty(await PendingAsync(redis, options));

        var second = new Collector();
        var secondRun = second.Start(source);
        await WaitForAsync(() => first.Items.Count + second.Items.Count >= 100, second.Signal, "the rest of the stream");
        secondRun.RequestStop();
        await secondRun.Completion.WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(1, 100), first.Items.Concat(second.Items));
        Assert.Empty(await PendingAsync(redis, options));
    }

    [Fact(Timeout = 120_000)]
    public async Task UnreadableEntry_WithoutADeadLetterStore_StaysPendingAndIsNeverYielded()
    {
        var options = Options(redis, "no-store");
        await ProduceAsync(redis, options, [1]);
        var bad = await redis.Database.StreamAddAsync(options.Stream, "item", "not json");
        await ProduceAsync(redis, options, [2]);
        var collector = new Collector();

        var run = collector.Start(new RedisStreamSource<int>(redis.Connection, options));
        await WaitForAsync(() => collector.Items.Count >= 2, collector.Signal, "both readable items");
        run.RequestStop();
        await run.Completion.WaitAsync(Bound);

        Assert.Equal([1, 2], collector.Items);
        Assert.Equal([bad], await PendingAsync(redis, options));
    }

    [Fact(Timeout = 120_000)]
    public async Task PoisonEntry_DeliveredMoreThanMaxDeliveries_LandsInTheDeadLetterStoreAndIsAcknowledged()
    {
        var options = Options(redis, "live", o =>
        {
            o.MaxDeliveries = 2;
            o.ClaimIdleTime = TimeSpan.FromMilliseconds(50);
        });
        await ProduceAsync(redis, options, [666]);
        await redis.Database.StreamCreateConsumerGroupAsync(options.Stream, options.Group, StreamPosition.Beginning);

        // Two consumers took the poison entry and died on it: delivered twice, never acknowledged.
        var poison = (await redis.Database.StreamReadGroupAsync(options.Stream, options.Group, "crashed-1", ">", 1)).Single();
        await redis.Database.StreamClaimAsync(options.Stream, options.Group, "crashed-2", 0, [poison.Id]);
        await ProduceAsync(redis, options, [1, 2, 3, 4]);
        var deadLetters = new MemoryDeadLetterStore();
        var collector = new Collector();

        var run = collector.Start(new RedisStreamSource<int>(redis.Connection, options, deadLetters: deadLetters));
        await WaitForAsync(() => collector.Items.Count >= 4, collector.Signal, "the four good items");
        await WaitForAsync(() => deadLetters.Letters.Count >= 1, deadLetters.Signal, "the poison entry's dead letter");
        run.RequestStop();
        await run.Completion.WaitAsync(Bound);

        var letter = Assert.Single(deadLetters.Letters);
        Assert.Equal(666, letter.Item);
        Assert.Equal("MaxDeliveries", letter.Reason);
        Assert.Equal(2, letter.Attempts);
        Assert.Contains(poison.Id.ToString(), letter.Exception!.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3, 4], collector.Items);
        Assert.Empty(await PendingAsync(redis, options));
    }

    [Fact(Timeout = 120_000)]
    public async Task DeadConsumersPendingEntries_AreClaimedByALiveConsumer_WithXAutoClaim()
    {
        var options = Options(redis, "survivor", o => o.ClaimIdleTime = TimeSpan.FromMilliseconds(100));
        await ProduceAsync(redis, options, Enumerable.Range(1, 30));
        await redis.Database.StreamCreateConsumerGroupAsync(options.Stream, options.Group, StreamPosition.Beginning);
        var taken = await redis.Database.StreamReadGroupAsync(options.Stream, options.Group, "killed", ">", 30);
        Assert.Equal(30, taken.Length);
        var collector = new Collector();

        var run = collector.Start(new RedisStreamSource<int>(redis.Connection, options));
        await WaitForAsync(() => collector.Items.Count >= 30, collector.Signal, "the dead consumer's 30 entries");
        run.RequestStop();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.True(result.IsAccounted, string.Join("; ", result.DescribeAccountingErrors()));
        Assert.Equal(Enumerable.Range(1, 30), collector.Items.Order());
        Assert.Empty(await PendingAsync(redis, options));
    }

    [Fact(Timeout = 120_000)]
    public async Task Acknowledged_CountsOnlyTheEntriesStillPending_NotThoseAnotherConsumerClaimedAndAcknowledgedFirst()
    {
        var options = Options(redis, "stalled");
        await ProduceAsync(redis, options, Enumerable.Range(1, 5));
        var source = new RedisStreamSource<int>(redis.Connection, options);
        var yielded = new List<PositionedItem<int>>();
        await using (var reader = source.ReadAsync(CancellationToken.None).GetAsyncEnumerator())
        {
            while (yielded.Count < 5 && await reader.MoveNextAsync())
            {
                yielded.Add(reader.Current);
            }
        }

        // Another consumer claims two of them, as if this one had stalled past the claim idle time, and acknowledges them first.
        var taken = (await redis.Database.StreamPendingMessagesAsync(options.Stream, options.Group, 10, "stalled")).Take(2).Select(entry => entry.MessageId).ToArray();
        Assert.Equal(2, (await redis.Database.StreamClaimAsync(options.Stream, options.Group, "other", 0, taken)).Length);
        Assert.Equal(2, await redis.Database.StreamAcknowledgeAsync(options.Stream, options.Group, taken));

        await source.AcknowledgeAsync(yielded[^1].Position, CancellationToken.None);

        Assert.Equal([1, 2, 3, 4, 5], yielded.Select(item => item.Item));
        Assert.Equal(3, source.Acknowledged);
        Assert.Empty(await PendingAsync(redis, options));
    }

    [Fact(Timeout = 180_000)]
    public async Task RedisRestartMidRun_LosesNothing()
    {
        var options = Options(redis, "through-restart");
        var collector = new Collector();
        var run = collector.Start(new RedisStreamSource<int>(redis.Connection, options));
        var sink = new RedisStreamSink<int>(redis.Connection, options);
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var restarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var producer = Task.Run(async () =>
        {
            for (var item = 1; item <= 600; item++)
            {
                if (item == 301)
                {
                    halfway.TrySetResult();
                    await restarted.Task;
                }

                await sink.WriteAsync(item, CancellationToken.None);
            }
        });

        await halfway.Task.WaitAsync(Bound);
        await WaitForAsync(() => collector.Items.Count >= 100, collector.Signal, "100 items before the restart");
        var restart = redis.RestartAsync();
        restarted.SetResult();
        await restart.WaitAsync(Bound);
        await producer.WaitAsync(Bound);
        await WaitForAsync(() => collector.Items.Distinct().Count() >= 600, collector.Signal, "every item after the restart");
        run.RequestStop();
        await run.Completion.WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(1, 600), collector.Items.Distinct().Order());
    }

    private static (long Milliseconds, long Sequence) ParseId(string id)
    {
        var parts = id.Split('-');
        return (long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task Forward(SemaphoreSlim from, SemaphoreSlim to)
    {
        while (await from.WaitAsync(Bound))
        {
            to.Release();
        }
    }
}
