using StackExchange.Redis;
using static Pipeline.Redis.Tests.RedisTestKit;

namespace Pipeline.Redis.Tests;

/// <summary>Trimming deletes what every group acknowledged, and never an entry some group still needs.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamTrimTests(RedisServerFixture redis)
{
    [Fact(Timeout = 120_000)]
    public async Task Consumed_EntriesEveryGroupAcknowledged_AreTrimmed()
    {
        var options = Options(redis, "trimmer");
        await ProduceAsync(redis, options, Enumerable.Range(1, 100));

        var source = new RedisStreamSource<int>(redis.Connection, options);
        var collector = new Collector();
        var run = collector.Start(source);
        await WaitForAsync(() => collector.Items.Count >= 100, collector.Signal, "every item");
        var result = await run.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Stopped, result.Status);
        Assert.Equal(Enumerable.Range(1, 100), collector.Items);
        Assert.Empty(await PendingAsync(redis, options));

        // The first acknowledgement trims at once, later ones at most once a second: what was acknowledged since the last trim
        // goes with the next one.
        var left = await redis.Database.StreamLengthAsync(options.Stream);
        Assert.True(left < 100, $"{left} entries left, none trimmed");
        Assert.Equal(left, await source.TrimAcknowledgedAsync(redis.Database));
        Assert.Equal(0, await redis.Database.StreamLengthAsync(options.Stream));
    }

    [Fact(Timeout = 120_000)]
    public async Task TrimAcknowledgedOff_KeepsEveryEntry()
    {
        var options = Options(redis, "keeper", o => o.TrimAcknowledged = false);
        await ProduceAsync(redis, options, Enumerable.Range(1, 50));

        var collector = new Collector();
        var run = collector.Start(new RedisStreamSource<int>(redis.Connection, options));
        await WaitForAsync(() => collector.Items.Count >= 50, collector.Signal, "every item");
        await run.StopAsync().WaitAsync(Bound);

        Assert.Empty(await PendingAsync(redis, options));
        Assert.Equal(50, await redis.Database.StreamLengthAsync(options.Stream));
    }

    [Fact(Timeout = 120_000)]
    public async Task Trim_KeepsWhatAnotherGroupHasNotRead_AndWhatIsPending()
    {
        var options = Options(redis, "fast");
        await ProduceAsync(redis, options, Enumerable.Range(1, 30));

        // A second group that has read the first 10 entries and acknowledged the first 5: entries 6..30 are still its own.
        await redis.Database.StreamCreateConsumerGroupAsync(options.Stream, "slow", StreamPosition.Beginning);
        var slowRead = await redis.Database.StreamReadGroupAsync(options.Stream, "slow", "slow-1", ">", count: 10);
        await redis.Database.StreamAcknowledgeAsync(options.Stream, "slow", slowRead.Take(5).Select(entry => entry.Id).ToArray());

        var source = new RedisStreamSource<int>(redis.Connection, options);
        var collector = new Collector();
        var run = collector.Start(source);
        await WaitForAsync(() => collector.Items.Count >= 30, collector.Signal, "every item");
        await run.StopAsync().WaitAsync(Bound);
        await source.TrimAcknowledgedAsync(redis.Database);

        var left = await EntriesAsync(redis, options);
        Assert.Equal(Enumerable.Range(6, 25), left.Select(entry => entry.Item));

        // The slow group catches up: the next trim deletes everything both groups acknowledged, and nothing either still needs.
        var rest = await redis.Database.StreamReadGroupAsync(options.Stream, "slow", "slow-1", ">", count: 100);
        await redis.Database.StreamAcknowledgeAsync(options.Stream, "slow", slowRead.Skip(5).Concat(rest).Take(20).Select(entry => entry.Id).ToArray());
        Assert.Equal(20, await source.TrimAcknowledgedAsync(redis.Database));
        Assert.Equal(Enumerable.Range(26, 5), (await EntriesAsync(redis, options)).Select(entry => entry.Item));
    }

    [Fact(Timeout = 120_000)]
    public async Task Trim_OnAStreamWithoutAGroup_DeletesNothing()
    {
        var options = Options(redis, "nogroup");
        await ProduceAsync(redis, options, Enumerable.Range(1, 10));
        var source = new RedisStreamSource<int>(redis.Connection, options);

        Assert.Equal(0, await source.TrimAcknowledgedAsync(redis.Database));
        Assert.Equal(10, await redis.Database.StreamLengthAsync(options.Stream));
    }
}
