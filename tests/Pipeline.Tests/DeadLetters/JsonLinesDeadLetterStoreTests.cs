using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.DeadLetters;

public partial class JsonLinesDeadLetterStoreTests
{
    private static readonly DateTimeOffset s_time = new(2026, 12, 1, 3, 4, 5, TimeSpan.FromHours(2));

    public sealed record Order(int Id, string Customer);

    [JsonSerializable(typeof(Order))]
    internal sealed partial class OrderJson : JsonSerializerContext;

    private static DeadLetter Letter(object? item, int attempts = 1)
        => new("orders", "store", item, "Failed", new InvalidOperationException("rejected \"now\""), s_time) { Attempts = attempts };

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_Returned_LineIsReadableFromAnotherHandle()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await using var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path });

        for (var id = 0; id < 3; id++)
        {
            await store.WriteAsync(Letter(new Order(id, "Zoë")), CancellationToken.None).AsTask().WaitAsync(Bound);

            // The store is still open: what another process sees right now is what counts.
            using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var lines = new StreamReader(reader, Encoding.UTF8).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(id + 1, lines.Length);
            Assert.Equal(id, JsonDocument.Parse(lines[id]).RootElement.GetProperty("item").GetProperty("Id").GetInt32());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_Line_HoldsEveryField()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await using (var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path }))
        {
            await store.WriteAsync(Letter(new Order(7, "Zoë"), attempts: 4), CancellationToken.None).AsTask().WaitAsync(Bound);
        }

        var line = Assert.Single(await File.ReadAllLinesAsync(path));
        var root = JsonDocument.Parse(line).RootElement;
        Assert.Equal("orders", root.GetProperty("pipeline").GetString());
        Assert.Equal("store", root.GetProperty("stage").GetString());
        Assert.Equal("Failed", root.GetProperty("reason").GetString());
        Assert.Equal("System.InvalidOperationException", root.GetProperty("error").GetString());
        Assert.Equal("rejected \"now\"", root.GetProperty("message").GetString());
        Assert.Equal(4, root.GetProperty("attempts").GetInt32());
        Assert.Equal("2026-12-01T01:04:05+00:00", root.GetProperty("timestamp").GetString());
        Assert.Equal(7, root.GetProperty("item").GetProperty("Id").GetInt32());
        Assert.Contains("Zoë", line, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_TwoRuns_Append()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        for (var run = 0; run < 2; run++)
        {
            await using var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path });
            await store.WriteAsync(Letter(run), CancellationToken.None).AsTask().WaitAsync(Bound);
        }

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal([0, 1], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("item").GetInt32()));
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_AfterTornLine_StartsOnANewLine()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await File.WriteAllTextAsync(path, "{\"item\":1}\n{\"item\":2,\"sta");

        await using (var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path }))
        {
            await store.WriteAsync(Letter(3), CancellationToken.None).AsTask().WaitAsync(Bound);
        }

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(3, lines.Length);
        Assert.Equal("{\"item\":2,\"sta", lines[1]);
        Assert.Equal(3, JsonDocument.Parse(lines[2]).RootElement.GetProperty("item").GetInt32());
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_NewFile_IsReadableByItsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes only.
        }

        using var directory = new TempDirectory();
        var path = directory.File(Path.Combine("nested", "dead.jsonl"));
        await using (var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path }))
        {
            await store.WriteAsync(Letter(1), CancellationToken.None).AsTask().WaitAsync(Bound);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_Fsync_WritesAndSyncs()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await using var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path, Durability = DeadLetterDurability.Fsync });

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => store.WriteAsync(Letter(i), CancellationToken.None).AsTask())).WaitAsync(Bound);

        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var lines = new StreamReader(reader).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 50), lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("item").GetInt32()).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task WriteAsync_ManyConcurrentWriters_EachLineWholeAndWrittenWhenItsCallReturns()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await using var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path });
        const int Writers = 8;
        const int PerWriter = 200;
        var violations = 0;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                var id = (writer * PerWriter) + i;
                await store.WriteAsync(Letter(new Order(id, new string('x', id % 50))), CancellationToken.None).ConfigureAwait(false);
                if (i % 25 == 0 && !FileHolds(path, id))
                {
                    Interlocked.Increment(ref violations);
                }
            }
        }))).WaitAsync(TimeSpan.FromSeconds(45));

        Assert.Equal(0, violations);
        var ids = (await File.ReadAllLinesAsync(path)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("item").GetProperty("Id").GetInt32());
        Assert.Equal(Enumerable.Range(0, Writers * PerWriter), ids.Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task WriteAsync_SeveralStoresOnOneFile_EveryLineWholeAndNoneLost()
    {
        // Stores of several pipelines (or processes) given the same DeadLetter:Path append to one file; a torn line a crash left
        // behind costs only its own fragment.
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await File.WriteAllTextAsync(path, "{\"torn\":");
        const int Stores = 3;
        const int Writers = 4;
        const int PerWriter = 150;
        var stores = Enumerable.Range(0, Stores).Select(_ => new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path })).ToArray();

        await Task.WhenAll(Enumerable.Range(0, Stores * Writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                var id = (writer * PerWriter) + i;
                await stores[writer % Stores].WriteAsync(Letter(new Order(id, new string('x', id % 70))), CancellationToken.None).ConfigureAwait(false);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(45));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal("{\"torn\":", lines[0]);
        var ids = lines.Skip(1).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("item").GetProperty("Id").GetInt32());
        Assert.Equal(Enumerable.Range(0, Stores * Writers * PerWriter), ids.Order());
    }

    [Fact(Timeout = 30_000)]
    public async Task DisposeAsync_WhileTheLastGroupWaitsForTheAppendLock_ReturnsOnceItIsWritten()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path });
        Task write;
        Task disposed;

        // Another writer (another process) holds the append lock while this store's only group waits for it.
        using (new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            write = store.WriteAsync(Letter(new Order(1, "Ann")), CancellationToken.None).AsTask();
            disposed = store.DisposeAsync().AsTask();
            Assert.False(write.IsCompleted);
        }

        await write.WaitAsync(Bound);
        await disposed.WaitAsync(Bound);
        Assert.Single(await File.ReadAllLinesAsync(path));
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_ItemTypeAdded_SerializesWithItsTypeInfo()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        var settings = new DeadLetterSettings { Path = path }.AddItemType(OrderJson.Default.Order);
        await using (var store = new JsonLinesDeadLetterStore(settings))
        {
            await store.WriteAsync(Letter(new Order(3, "Ana")), CancellationToken.None).AsTask().WaitAsync(Bound);
        }

        var entries = await DeadLetterFileReader.ReadAsync(path, OrderJson.Default.Order).ToListAsync().AsTask().WaitAsync(Bound);
        Assert.Equal(new Order(3, "Ana"), Assert.Single(entries).Item);
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_SerializerOptionsWithoutTheType_WritesTheItemsText()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        var settings = new DeadLetterSettings { Path = path, SerializerOptions = OrderJson.Default.Options };
        await using (var store = new JsonLinesDeadLetterStore(settings))
        {
            await store.WriteAsync(Letter(new Uri("https://example.org/a")), CancellationToken.None).AsTask().WaitAsync(Bound);
        }

        var root = JsonDocument.Parse(Assert.Single(await File.ReadAllLinesAsync(path))).RootElement;
        Assert.Equal("https://example.org/a", root.GetProperty("item").GetString());
        Assert.Contains("Uri", root.GetProperty("itemError").GetString(), StringComparison.Ordinal);
    }

    public sealed class Node
    {
        public Node? Next { get; set; }

        public override string ToString() => "node";
    }

    [Fact(Timeout = 30_000)]
    public async Task WriteAsync_ItemThatCannotBeSerialized_KeepsItsTextAndSaysWhy()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        var cycle = new Node();
        cycle.Next = cycle;
        await using (var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path }))
        {
            await store.WriteAsync(Letter(cycle), CancellationToken.None).AsTask().WaitAsync(Bound);
            await store.WriteAsync(Letter(new Order(1, "Ann")), CancellationToken.None).AsTask().WaitAsync(Bound);
        }

        var lines = (await File.ReadAllLinesAsync(path)).Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        Assert.Equal("node", lines[0].GetProperty("item").GetString());
        Assert.Contains("cycle", lines[0].GetProperty("itemError").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(lines[1].TryGetProperty("itemError", out _));
    }

    [Fact]
    public void Constructor_BadSettings_ThrowsNamingTheKey()
    {
        var blank = Assert.Throws<ArgumentException>(() => new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = " " }));
        Assert.Contains("DeadLetter:Path must be a file path, was ' '", blank.Message, StringComparison.Ordinal);
        var durability = Assert.Throws<ArgumentException>(() => new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = "x", Durability = (DeadLetterDurability)9 }));
        Assert.Contains("DeadLetter:Durability must be one of Flush, Fsync, was '9'", durability.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Letter(1, attempts: 0));
    }

    private static bool FileHolds(string path, int id)
    {
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var text = new StreamReader(reader).ReadToEnd();
        return text.Contains($"\"Id\":{id},", StringComparison.Ordinal);
    }
}
