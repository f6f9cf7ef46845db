using static Pipeline.Redis.Tests.RedisTestKit;

namespace Pipeline.Redis.Tests;

/// <summary>The sink through a Redis outage: batches wait and are sent again; nothing is lost.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamSinkOutageTests(RedisServerFixture redis)
{
    [Fact(Timeout = 180_000)]
    public async Task WriteBatchAsync_WhileTheServerIsDown_WaitsAndSendsEverything()
    {
        const int BatchesBefore = 5;
        const int BatchesAfter = 5;
        var options = Options(redis, "unused");
        var sink = new RedisStreamSink<int>(redis.Connection, options);
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serverDown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writeDuringOutage = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        var producer = Task.Run(async () =>
        {
            for (var batch = 0; batch < BatchesBefore + 1 + BatchesAfter; batch++)
            {
                if (batch == BatchesBefore)
                {
                    // The next batch is written once the server is down: it must wait for it, not fail.
                    written.TrySetResult();
                    await serverDown.Task;
                }

                var write = sink.WriteBatchAsync(Enumerable.Range((batch * 50) + 1, 50).ToArray(), CancellationToken.None).AsTask();
                if (batch == BatchesBefore)
                {
                    writeDuringOutage.TrySetResult(write);
                }

                await write;
            }
        });

        await written.Task.WaitAsync(Bound);
        await redis.RestartAsync(whileDown: async () =>
        {
            serverDown.TrySetResult();
            var write = await writeDuringOutage.Task.WaitAsync(Bound);

            // Nothing can be sent while the server is down: the write is still waiting when the server comes back.
            Assert.False(write.IsCompleted, "A batch written during the outage completed before the server was back.");
        }).WaitAsync(Bound);
        await producer.WaitAsync(Bound);

        // Sent again after the outage: duplicates are allowed (at least once), gaps are not.
        var items = (await EntriesAsync(redis, options)).Select(entry => entry.Item).ToArray();
        Assert.Equal(Enumerable.Range(1, (BatchesBefore + 1 + BatchesAfter) * 50), items.Distinct().Order());
    }
}
