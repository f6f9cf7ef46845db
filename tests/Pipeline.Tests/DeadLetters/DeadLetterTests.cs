using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.DeadLetters;

public class DeadLetterTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task OnErrorDeadLetter_ItemThrows_GoesToTheStoreAndTheStageGoesOn(HandoffKind kind)
    {
        var store = new MemoryStore();
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(store).BuildServiceProvider();
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(20, ct))
            .Then("reject-multiples-of-five", x => x % 5 == 0 ? throw new ArgumentException($"bad {x}") : x,
                o => { o.OnError = StageErrorMode.DeadLetter; o.Parallelism = 2; })
            .To("collect", sink)
            .Build(services);

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 20).Where(x => x % 5 != 0), sink.Items);
        Assert.Equal([0, 5, 10, 15], store.Letters.Select(l => (int)l.Item!).Order());
        Assert.All(store.Letters, l =>
        {
            Assert.Equal("Failed", l.Reason);
            Assert.Equal("reject-multiples-of-five", l.StageName);
            Assert.Equal($"bad {l.Item}", l.Exception!.Message);
            Assert.Equal(1, l.Attempts);
        });
        Assert.Equal(4, result["reject-multiples-of-five"].Failed);
        Assert.Equal(4, result["reject-multiples-of-five"].DeadLettered);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OnErrorDeadLetter_RetriesExhausted_RecordsEveryAttempt(bool asynchronous)
    {
        // Item 3 always fails (4 attempts: the first and 3 retries), item 7 only at its first attempt, item 9 at its first two, and
        // item 5 in another stage, with no retry (1 attempt). Items fail at once or after an await.
        var store = new MemoryStore();
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(store).BuildServiceProvider();
        var tries = new ConcurrentDictionary<int, int>();
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(HandoffKind.Condition)
            .From("numbers", ct => Range(12, ct))
            .Then("flaky", async (int x, CancellationToken ct) =>
            {
                var attempt = tries.AddOrUpdate(x, 1, (_, n) => n + 1);
                if (asynchronous)
                {
                    await Task.Yield();
                }

                return x == 3 || (x == 7 && attempt == 1) || (x == 9 && attempt <= 2) ? throw new IOException($"try {attempt} of {x}") : x;
            }, o =>
            {
                o.OnError = StageErrorMode.DeadLetter;
                o.Parallelism = 2;
                o.Resilience = new ResilienceSettings { Retry = new RetrySettings { MaxRetryAttempts = 3, Delay = TimeSpan.Zero } };
            })
            .Then("strict", x => x == 5 ? throw new ArgumentException("five") : x, o => o.OnError = StageErrorMode.DeadLetter)
            .To("collect", sink)
            .Build(services);

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal([3, 5], store.Letters.Select(l => (int)l.Item!).Order());
        var flaky = Assert.Single(store.Letters, l => l.StageName == "flaky");
        Assert.Equal(4, flaky.Attempts);
        Assert.Equal("try 4 of 3", flaky.Exception!.Message);
        Assert.Equal(1, Assert.Single(store.Letters, l => l.StageName == "strict").Attempts);
        Assert.Equal(Enumerable.Range(0, 12).Where(x => x is not 3 and not 5), sink.Items.Order());
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task OnErrorDeadLetter_OneExceptionInstanceThrownByTwoStages_EachRecordsItsOwnAttempts()
    {
        // A cached exception: item 1 fails with it in a stage that retries twice (3 attempts); once that is dead-lettered, item 8
        // fails with the same instance in a stage with no retry (1 attempt).
        var cached = new InvalidOperationException("cached");
        var store = new MemoryStore();
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(store).BuildServiceProvider();
        var pipeline = NewPipeline(HandoffKind.Condition)
            .From("numbers", ct => Range(10, ct))
            .Then("retrying", x => x == 1 ? throw cached : x, o =>
            {
                o.OnError = StageErrorMode.DeadLetter;
                o.Resilience = new ResilienceSettings { Retry = new RetrySettings { MaxRetryAttempts = 2, Delay = TimeSpan.Zero } };
            })
            .Then("plain", async (int x, CancellationToken ct) =>
            {
                if (x == 8)
                {
                    await store.Written.WaitForCountAsync(1, "item 1's dead letter");
                    throw cached;
                }

                return x;
            }, o => o.OnError = StageErrorMode.DeadLetter)
            .To("collect", _ => { })
            .Build(services);

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(3, Assert.Single(store.Letters, l => l.StageName == "retrying").Attempts);
        Assert.Equal(1, Assert.Single(store.Letters, l => l.StageName == "plain").Attempts);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Abort_WithStore_WritesEveryDiscardedItemToIt(HandoffKind kind)
    {
        var store = new MemoryStore();
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(store).BuildServiceProvider();
        var sink = new RecordingSink<int>();
        var source = new SourceProgress();
        var pipeline = NewPipeline(kind, capacity: 4)
            .From("endless", source.Endless)
            .Then("identity", x => x)
            .To("stuck", sink)
            .Build(services);
        sink.Close();
        var run = pipeline.Start();
        await source.WaitForTakenAsync(8, "the handoffs to fill");

        run.Abort();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Aborted, result.Status);
        var givenUp = result.Stages.Sum(s => s.Dropped + s.Failed);
        Assert.True(givenUp > 0);
        Assert.Equal(givenUp, store.Letters.Count);
        Assert.Equal(givenUp, result.Stages.Sum(s => s.DeadLettered));
        Assert.Equal(result["endless"].In, store.Letters.Count + sink.Count);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task DeadLetterPath_InConfiguration_AppendsJsonLines()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"pipeline-dead-letters-{Guid.NewGuid():N}");
        var path = Path.Combine(directory, "orders.jsonl");
        try
        {
            using var host = BuildHost(
                services => services.AddPipeline("orders", p => p
                    .From("read", ct => Range(6, ct))
                    .Then("to-order", x => new Order(x, x * 1.5m))
                    .To("store", o => { if (o.Id % 3 == 0) { throw new InvalidOperationException($"order {o.Id} rejected"); } })),
                new Dictionary<string, string?>
                {
                    ["Pipelines:orders:Handoff:Kind"] = "Channel",
                    ["Pipelines:orders:Stages:store:OnError"] = "DeadLetter",
                    ["Pipelines:orders:DeadLetter:Path"] = path,
                });

            await host.StartAsync().WaitAsync(Bound);
            var result = await ServiceOf(host).Completion.WaitAsync(Bound);
            await host.StopAsync().WaitAsync(Bound);

            Assert.Equal(PipelineStatus.Completed, result.Status);
            var lines = await File.ReadAllLinesAsync(path);
            Assert.Equal(2, lines.Length);
            var first = JsonDocument.Parse(lines[0]).RootElement;
            Assert.Equal("orders", first.GetProperty("pipeline").GetString());
            Assert.Equal("store", first.GetProperty("stage").GetString());
            Assert.Equal("Failed", first.GetProperty("reason").GetString());
            Assert.Equal("System.InvalidOperationException", first.GetProperty("error").GetString());
            Assert.Equal("order 0 rejected", first.GetProperty("message").GetString());
            Assert.Equal(0, first.GetProperty("item").GetProperty("Id").GetInt32());
            Assert.Equal(3, JsonDocument.Parse(lines[1]).RootElement.GetProperty("item").GetProperty("Id").GetInt32());
            Assert.Equal(2, result["store"].DeadLettered);
            AssertAccounted(result);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    public sealed record Order(int Id, decimal Amount);

    private sealed class MemoryStore : IDeadLetterStore
    {
        private readonly ConcurrentQueue<DeadLetter> _letters = new();

        public ConcurrentQueue<DeadLetter> Letters => _letters;

        /// <summary>Gets the letters' stage names, in the order written, with a signal at each.</summary>
        public ObservedQueue<string> Written { get; } = new();

        public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            _letters.Enqueue(deadLetter);
            Written.Enqueue(deadLetter.StageName);
            return default;
        }
    }
}
