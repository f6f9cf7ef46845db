using Microsoft.Extensions.Logging.Testing;
using static Pipeline.Redis.Tests.RedisTestKit;

namespace Pipeline.Redis.Tests;

/// <summary>A server that lost its data (a restart without persistence): the loss is logged as an error, and reading goes on.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamGroupLostTests(RedisServerFixture redis)
{
    [Fact(Timeout = 120_000)]
    public async Task GroupGoneWithTheServersData_IsLoggedAsAnError_AndTheGroupIsCreatedAgain()
    {
        var options = Options(redis, "survivor");
        await ProduceAsync(redis, options, Enumerable.Range(1, 10));
        var logger = new FakeLogger();
        var collector = new Collector();
        var run = collector.Start(new RedisStreamSource<int>(redis.Connection, options, logger: logger));
        await WaitForAsync(() => collector.Items.Count >= 10, collector.Signal, "the first 10 items");

        // What a restart without persistence leaves: no stream, no group.
        await redis.Database.KeyDeleteAsync(options.Stream);
        using (var timeout = new CancellationTokenSource(Bound))
        {
            // Every record the logger collects, from the first, as it is logged: the wait ends on the GroupLost record itself.
            await foreach (var record in logger.Collector.GetLogsAsync(timeout.Token))
            {
                if (record.Id.Name == "GroupLost")
                {
                    break;
                }
            }
        }

        await ProduceAsync(redis, options, Enumerable.Range(11, 5));
        await WaitForAsync(() => collector.Items.Count >= 15, collector.Signal, "the items written after the loss");
        await run.StopAsync().WaitAsync(Bound);

        var lost = logger.Collector.GetSnapshot().First(record => record.Id.Name == "GroupLost");
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, lost.Level);
        Assert.Contains("appendonly yes", lost.Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(1, 15), collector.Items);
    }
}
