using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Acknowledgement;

/// <summary>
/// Acknowledgement through the engine: the watermark a source is told never passes an item still in flight (through a transform,
/// <c>ThenMany</c> and <c>Batch</c>), a final one follows a graceful stop, and replays are counted.
/// </summary>
public class AcknowledgementEngineTests
{
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task SlowItemAtFive_HoldsWatermarkAtFour_WhileSixToHundredFinish(HandoffKind kind)
    {
        var source = new PositionSource(100);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sunk = new ObservedQueue<int>();
        var pipeline = Acknowledging(kind)
            .From("read", source)
            .Then("work", async (int x, CancellationToken ct) =>
            {
                if (x == 5)
                {
                    await gate.Task.WaitAsync(ct);
                }

                return x;
            }, o =>
            {
                o.Parallelism = 4;
                o.Ordered = false;
            })
            .To("sink", x => sunk.Enqueue(x))
            .Build();

        var run = pipeline.Start();
        await sunk.WaitForCountAsync(99, "every item but 5 sunk");
        await source.WaitForAcknowledgementAsync(4).WaitAsync(Bound);
        Assert.Equal(4, source.Highest);

        gate.SetResult();
        var result = await run.Completion.WaitAsync(Bound);
        AssertAccounted(result);
        Assert.Equal(100, source.Highest);
        source.AssertStrictlyIncreasing();
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task ThenMany_HoldsWatermark_UntilEveryOutputOfAnItemIsSunk(HandoffKind kind)
    {
        var source = new PositionSource(20);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sunk = new ObservedQueue<int>();
        var pipeline = Acknowledging(kind)
            .From("read", source)
            .ThenMany("split", x => x == 7 ? Array.Empty<int>() : new[] { x * 10, (x * 10) + 1, (x * 10) + 2 })
            .To("sink", async (int x, CancellationToken ct) =>
            {
                if (x == 51)
                {
                    await gate.Task.WaitAsync(ct);
                }

                sunk.Enqueue(x);
            }, o => o.Parallelism = 2)
            .Build();

        var run = pipeline.Start();

        // 19 items with 3 outputs each (7 has none); 51 is held.
        await sunk.WaitForCountAsync(56, "every output but 51 sunk");
        await source.WaitForAcknowledgementAsync(4).WaitAsync(Bound);
        Assert.Equal(4, source.Highest);

        gate.SetResult();
        var result = await run.Completion.WaitAsync(Bound);
        AssertAccounted(result);
        Assert.Equal(20, source.Highest);
        source.AssertStrictlyIncreasing();
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Batch_HoldsWatermark_UntilTheBatchIsSunk(HandoffKind kind)
    {
        var source = new PositionSource(20);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sunk = new ObservedQueue<int>();
        var pipeline = Acknowledging(kind)
            .From("read", source)
            .Batch("group", 4, TimeSpan.FromMinutes(1))
            .To("sink", async (IReadOnlyList<int> batch, CancellationToken ct) =>
            {
                if (batch.Contains(5))
                {
                    await gate.Task.WaitAsync(ct);
                }

                foreach (var x in batch)
                {
                    sunk.Enqueue(x);
                }
            }, o => o.Parallelism = 2)
            .Build();

        var run = pipeline.Start();

        // Batches 1-4, 9-12, 13-16, 17-20 sunk; 5-8 held.
        await sunk.WaitForCountAsync(16, "every batch but 5-8 sunk");
        await source.WaitForAcknowledgementAsync(4).WaitAsync(Bound);
        Assert.Equal(4, source.Highest);

        gate.SetResult();
        var result = await run.Completion.WaitAsync(Bound);
        AssertAccounted(result);
        Assert.Equal(20, source.Highest);
        source.AssertStrictlyIncreasing();
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task GracefulStop_SendsFinalAcknowledgement_OfEverySunkItem(HandoffKind kind)
    {
        var source = new PositionSource(count: int.MaxValue);
        var sunk = new ObservedQueue<int>();
        var builder = Acknowledging(kind);

        // Coalescing never fires by itself here: only the final acknowledgement can tell the source.
        builder.Acknowledgement.MaxCount = int.MaxValue;
        builder.Acknowledgement.MaxDelay = TimeSpan.FromHours(1);
        var pipeline = builder
            .From("read", source)
            .Then("work", x => x, o => o.Parallelism = 2)
            .To("sink", x => sunk.Enqueue(x))
            .Build();

        var run = pipeline.Start();
        await sunk.WaitForCountAsync(500, "500 items sunk");
        Assert.Equal(0, source.Highest);
        var result = await run.StopAsync().WaitAsync(Bound);

        AssertAccounted(result);
        Assert.Equal(result.Yielded, sunk.Count);
        Assert.Equal(sunk.Max(), source.Highest);
        Assert.Equal(result.Yielded, source.Highest);
        Assert.Single(source.Acknowledged);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task ShutdownDeadline_SinkStuck_FinalAcknowledgementStopsBeforeTheFirstAbandonedItem(HandoffKind kind)
    {
        var source = new PositionSource(count: int.MaxValue);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Acknowledging(kind);
        builder.Acknowledgement.MaxCount = int.MaxValue;
        builder.Acknowledgement.MaxDelay = TimeSpan.FromHours(1);
        var run = builder
            .From("read", source)
            .Then("work", x => x)
            .To("sink", async (int x, CancellationToken _) =>
            {
                if (x == 40)
                {
                    // Deaf to its token: only the deadline's take-over ends this item.
                    stuck.TrySetResult();
                    await release.Task;
                }
            })
            .Build()
            .Start();
        await stuck.Task.WaitAsync(Bound);
        Assert.Empty(source.Acknowledged);

        var result = await run.StopWithinAsync(TimeSpan.FromMilliseconds(500)).WaitAsync(Bound);
        release.TrySetResult();

        // Items 1..39 were sunk; item 40 and those after it were abandoned with no store to keep them, so the final
        // acknowledgement stops before item 40 and a restart reads it again.
        Assert.Equal(PipelineStatus.Aborted, result.Status);
        Assert.True(result.Abandoned >= 1, result.ToString());
        Assert.True(result.IsAccounted, result.ToString());
        Assert.Equal(39, source.Highest);
        Assert.Single(source.Acknowledged);
    }

    [Fact(Timeout = 60_000)]
    public async Task ReplayedItems_AreCountedOnTheSourceStage()
    {
        var source = new PositionSource(30, isReplay: x => x % 3 == 0);
        var pipeline = Acknowledging(HandoffKind.Channel)
            .From("read", source)
            .To("sink", _ => { })
            .Build();

        var result = await pipeline.Start().Completion.WaitAsync(Bound);

        AssertAccounted(result);
        Assert.Equal(10, result["read"].Replayed);
        Assert.Equal(0, result["sink"].Replayed);
        Assert.Equal(30, source.Highest);
    }

    [Fact]
    public void Build_WithAcknowledgementOutOfRange_NamesTheSettingAndValue()
    {
        var builder = new PipelineBuilder("bad");
        builder.Acknowledgement.MaxCount = 0;
        builder.From("read", new PositionSource(1)).To("sink", _ => { });

        var exception = Assert.Throws<ArgumentException>(() => builder.Build());
        Assert.Contains("Acknowledgement.MaxCount", exception.Message, StringComparison.Ordinal);
        Assert.Contains("was 0", exception.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task DeadLetterReplay_SinksExactlyTheDeadLetteredItems_AndASecondReplayNone()
    {
        using var temp = new TempDirectory();
        var deadLetters = temp.File("dead.jsonl");
        var configuration = new PipelineOptions();
        configuration.DeadLetter.Path = deadLetters;
        var failing = new HashSet<int> { 17, 500, 999 };
        var fixedIt = false;
        var first = new PipelineBuilder("numbers")
            .From("read", Enumerable.Range(0, 1_000))
            .Then("check", x => !fixedIt && failing.Contains(x) ? throw new InvalidOperationException($"bug on {x}") : x, o => o.OnError = StageErrorMode.DeadLetter)
            .To("sink", _ => { })
            .Build(configuration: configuration);
        var firstResult = await first.Start().Completion.WaitAsync(Bound);
        Assert.Equal(3, firstResult.DeadLettered);

        fixedIt = true;
        var typeInfo = (JsonTypeInfo<int>)JsonSerializerOptions.Default.GetTypeInfo(typeof(int));
        async Task<int[]> ReplayAsync()
        {
            var replayed = new ConcurrentQueue<int>();
            var replay = new PipelineBuilder("numbers-replay")
                .From("replay", new DeadLetterSource<int>(deadLetters, typeInfo))
                .Then("check", x => !fixedIt && failing.Contains(x) ? throw new InvalidOperationException($"bug on {x}") : x)
                .To("sink", x => replayed.Enqueue(x))
                .Build();
            var result = await replay.Start().Completion.WaitAsync(Bound);
            AssertAccounted(result);
            Assert.Equal(replayed.Count, result["replay"].Replayed);
            return [.. replayed.Order()];
        }

        var replayedOnce = await ReplayAsync();
        Assert.Equal(new[] { 17, 500, 999 }, replayedOnce);
        Assert.Empty(await ReplayAsync());
    }

    internal static PipelineBuilder Acknowledging(HandoffKind kind)
    {
        var builder = NewPipeline(kind, capacity: 8);
        builder.Acknowledgement.MaxCount = 1;
        builder.Acknowledgement.MaxDelay = TimeSpan.FromMilliseconds(10);
        return builder;
    }

    /// <summary>Yields 1..count at positions 1..count and records every acknowledgement.</summary>
    internal sealed class PositionSource(int count, Func<int, bool>? isReplay = null) : IAcknowledgingSource<int>
    {
        private readonly ConcurrentQueue<long> _acknowledged = new();
        private readonly ConcurrentDictionary<long, TaskCompletionSource> _waiters = new();

        public IReadOnlyCollection<long> Acknowledged => _acknowledged;

        public long Highest => _acknowledged.IsEmpty ? 0 : _acknowledged.Max();

        public async IAsyncEnumerable<PositionedItem<int>> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
        {
            for (var x = 1; x <= count && !stoppingToken.IsCancellationRequested; x++)
            {
                if (x % 64 == 0)
                {
                    await Task.Yield();
                }

                yield return new PositionedItem<int>(x, x, isReplay?.Invoke(x) ?? false);
            }
        }

        public ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken)
        {
            _acknowledged.Enqueue(position);
            Waiter(position).TrySetResult();
            return default;
        }

        public Task WaitForAcknowledgementAsync(long position) => Waiter(position).Task;

        public void AssertStrictlyIncreasing()
        {
            var acknowledged = _acknowledged.ToArray();
            for (var index = 1; index < acknowledged.Length; index++)
            {
                Assert.True(acknowledged[index] > acknowledged[index - 1], $"acknowledgements not increasing: {string.Join(", ", acknowledged)}");
            }
        }

        private TaskCompletionSource Waiter(long position) =>
            _waiters.GetOrAdd(position, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
