using System.Text.Json.Serialization;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.DeadLetters;

public sealed partial class DeadLetterSourceTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public sealed record Order(int Id);

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true)]
    [JsonSerializable(typeof(Order))]
    internal sealed partial class ReplayJson : JsonSerializerContext;

    [JsonSerializable(typeof(FileLine))]
    internal sealed partial class FileLineJson : JsonSerializerContext;

    public void Dispose() => _directory.Dispose();

    private static async Task WriteAsync(string path, params int[] ids)
    {
        await using var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path });
        foreach (var id in ids)
        {
            await store.WriteAsync(new DeadLetter("orders", "store", new Order(id), "Failed", null, DateTimeOffset.UnixEpoch), CancellationToken.None)
                .AsTask().WaitAsync(Bound);
        }
    }

    /// <summary>Replays the file into <paramref name="sink"/>, acknowledging after each item as the engine will once it is accounted for.</summary>
    private static async Task<List<PositionedItem<TItem>>> ReplayAsync<TItem>(DeadLetterSource<TItem> source, Func<TItem, bool>? sink = null, CancellationToken stoppingToken = default)
    {
        var replayed = new List<PositionedItem<TItem>>();
        await foreach (var item in source.ReadAsync(stoppingToken).WithCancellation(CancellationToken.None))
        {
            replayed.Add(item);
            if (sink?.Invoke(item.Item) ?? true)
            {
                await source.AcknowledgeAsync(item.Position, CancellationToken.None);
            }
        }

        return replayed;
    }

    [Fact(Timeout = 60_000)]
    public async Task Replay_FileWithAnotherStagesItems_StagesSet_ReplaysOnlyThoseStagesLines()
    {
        var path = _directory.File("mixed.dead.jsonl");
        await using (var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path }))
        {
            await store.WriteAsync(new DeadLetter("orders", "store", new Order(1), "Failed", null, DateTimeOffset.UnixEpoch), CancellationToken.None);
            await store.WriteAsync(new DeadLetter("orders", "batch", new[] { new Order(2), new Order(3) }, "Discarded", null, DateTimeOffset.UnixEpoch), CancellationToken.None);
            await store.WriteAsync(new DeadLetter("orders", "store", new Order(4), "Failed", null, DateTimeOffset.UnixEpoch), CancellationToken.None);
        }

        // Every line read as an Order: the batch's line cannot be.
        await Assert.ThrowsAsync<InvalidDataException>(() => ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order, _directory.File("all.checkpoint"))));

        var replayed = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order, _directory.File("store.checkpoint")) { Stages = ["store"] });
        Assert.Equal([1, 4], replayed.Select(item => item.Item.Id));
    }

    [Fact(Timeout = 60_000)]
    public async Task Replay_AfterARunDeadLettersThree_SinksExactlyThoseThenNothing()
    {
        var path = _directory.File("orders.dead.jsonl");
        var pipelineOptions = new PipelineOptions();
        pipelineOptions.DeadLetter.Path = path;
        pipelineOptions.DeadLetter.AddItemType(ReplayJson.Default.Order);
        var pipeline = NewPipeline(HandoffKind.Condition, name: "orders")
            .From("read", ct => Range(1000, ct))
            .Then("to-order", x => new Order(x))
            .To("store", o => { if (o.Id is 17 or 500 or 999) { throw new InvalidOperationException("bug"); } }, o => o.OnError = StageErrorMode.DeadLetter)
            .Build(configuration: pipelineOptions);

        var result = await pipeline.RunAsync().WaitAsync(Bound);
        Assert.Equal(3, result["store"].DeadLettered);

        // The pipeline's serialization metadata wrote the items (its naming policy shows in the file).
        Assert.Contains("\"item\":{\"id\":17}", await File.ReadAllTextAsync(path), StringComparison.Ordinal);

        // The bug is fixed: the replay sinks every item.
        var first = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order));
        var second = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order));

        Assert.Equal([17, 500, 999], first.Select(i => i.Item.Id));
        Assert.All(first, i => Assert.True(i.IsReplay));
        Assert.Empty(second);
    }

    [Fact(Timeout = 30_000)]
    public async Task Replay_LinesOfAFileSource_ComeBackWithTheirTextAndOffsets()
    {
        // What FromFile yields is what its dead letters hold; a replay must give the same lines back, by reflection or source generation.
        var path = _directory.File("lines.dead.jsonl");
        await using (var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path }))
        {
            await store.WriteAsync(new DeadLetter("logs", "parse", new FileLine("GET /a \"q\"", 10, 25), "Failed", null, DateTimeOffset.UnixEpoch), CancellationToken.None);
        }

        var generated = await ReplayAsync(new DeadLetterSource<FileLine>(path, FileLineJson.Default.FileLine, _directory.File("generated.checkpoint")));
        var reflected = await ReplayAsync(new DeadLetterSource<FileLine>(
            path, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<FileLine>)System.Text.Json.JsonSerializerOptions.Default.GetTypeInfo(typeof(FileLine)), _directory.File("reflected.checkpoint")));

        foreach (var line in generated.Concat(reflected).Select(item => item.Item))
        {
            Assert.Equal("GET /a \"q\"", line.Text);
            Assert.Equal(10, line.StartOffset);
            Assert.Equal(25, line.EndOffset);
        }

        Assert.Equal(2, generated.Count + reflected.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task Replay_StoppedPartWay_ResumesAfterTheLastAcknowledged()
    {
        var path = _directory.File("dead.jsonl");
        await WriteAsync(path, 1, 2, 3, 4, 5);

        var first = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order), sink: o => o.Id <= 2);
        var second = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order));

        Assert.Equal([1, 2, 3, 4, 5], first.Select(i => i.Item.Id));
        Assert.Equal([3, 4, 5], second.Select(i => i.Item.Id));
        Assert.True(first.Zip(first.Skip(1)).All(pair => pair.First.Position < pair.Second.Position), "positions strictly increase");
    }

    [Fact(Timeout = 30_000)]
    public async Task Replay_ItemsFailingAgainAppendedDuringIt_LeftForTheNextReplay()
    {
        var path = _directory.File("dead.jsonl");
        await WriteAsync(path, 1, 2);
        var source = new DeadLetterSource<Order>(path, ReplayJson.Default.Order);

        var first = await ReplayAsync(source, sink: order =>
        {
            // The item fails again and goes back to the same file.
            WriteAsync(path, order.Id + 100).GetAwaiter().GetResult();
            return true;
        });
        var second = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order));

        Assert.Equal([1, 2], first.Select(i => i.Item.Id));
        Assert.Equal([101, 102], second.Select(i => i.Item.Id));
    }

    [Fact(Timeout = 30_000)]
    public async Task Replay_TornLastLine_Skipped()
    {
        var path = _directory.File("dead.jsonl");
        await WriteAsync(path, 1);
        await File.AppendAllTextAsync(path, "{\"item\":{\"Id\":");

        var replayed = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order));

        Assert.Equal([1], replayed.Select(i => i.Item.Id));
    }

    [Fact(Timeout = 30_000)]
    public async Task Replay_ResumedPastTheStart_NamesATornLineByItsLineInTheFile()
    {
        var path = _directory.File("dead.jsonl");
        await WriteAsync(path, 1, 2, 3);
        await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order));
        await File.AppendAllTextAsync(path, "{\"item\":{\"Id\":");
        await WriteAsync(path, 5);
        var logger = new DeadLetterFileReaderTests.ListLogger();

        var replayed = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order, logger: logger));

        // The resumed replay starts at line 4: its torn line is line 4 of the file, not the first line read.
        Assert.Equal([5], replayed.Select(i => i.Item.Id));
        var warning = Assert.Single(logger.Messages);
        Assert.Contains("line 4 ", warning.Text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Replay_CheckpointOfAnotherFile_ReplaysFromTheStart()
    {
        var path = _directory.File("dead.jsonl");
        var checkpoint = _directory.File("replay.checkpoint");
        await WriteAsync(path, 1, 2);
        await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order, checkpoint));
        File.Delete(path);
        await WriteAsync(path, 7, 8, 9);

        var replayed = await ReplayAsync(new DeadLetterSource<Order>(path, ReplayJson.Default.Order, checkpoint));

        Assert.Equal([7, 8, 9], replayed.Select(i => i.Item.Id));
    }

    [Fact]
    public void Constructor_CheckpointIsTheFile_Throws()
    {
        var path = _directory.File("dead.jsonl");

        var exception = Assert.Throws<ArgumentException>(() => new DeadLetterSource<Order>(path, ReplayJson.Default.Order, path));

        Assert.Equal("checkpointPath", exception.ParamName);
        Assert.Equal(path + ".replay-checkpoint", new DeadLetterSource<Order>(path, ReplayJson.Default.Order).CheckpointPath);
    }
}
