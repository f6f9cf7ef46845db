using static Pipeline.Redis.Tests.RedisTestKit;

namespace Pipeline.Redis.Tests;

/// <summary>The sink through a Redis outage: batches wait and are sent again; nothing is lost.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamSinkOutageTests(RedisServerFixture redis)
{
    [Fact(Timeout = 180_000)]
    public async Task WriteBatchAsync_WhileTheServerIsDown_WaitsAndSendsEverything()
    {
        var options = Options(redis, "unused");
        var sink = new RedisStreamSink<int>(redis.Connection, options);
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var batches = 0;
        var producer = Task.Run(async () =>
        {
            // Batches keep coming while the server is down: each must wait for it, not fail.
            while (!stop.IsCancellationRequested)
            {
                await sink.WriteBatchAsync(Enumerable.Range((batches * 50) + 1, 50).ToArray(), CancellationToken.None);
                if (++batches == 5)
                {
                    writing.TrySetResult();
                }

                await Task.Delay(5);
            }
        });

        await writing.Task.WaitAsync(Bound);
        await redis.RestartAsync(downtime: TimeSpan.FromSeconds(1)).WaitAsync(Bound);
        var afterRestart = Volatile.Read(ref batches) + 5;
        await WaitUntilAsync(() => Volatile.Read(ref batches) >= afterRestart || producer.IsCompleted);
        await stop.CancelAsync();
        await producer.WaitAsync(Bound);

        // Sent again after the outage: duplicates are allowed (at least once), gaps are not.
        var items = (await EntriesAsync(redis, options)).Select(entry => entry.Item).ToArray();
        Assert.Equal(Enumerable.Range(1, batches * 50), items.Distinct().Order());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
