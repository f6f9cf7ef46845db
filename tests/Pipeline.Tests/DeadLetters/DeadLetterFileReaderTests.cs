using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.DeadLetters;

public class DeadLetterFileReaderTests
{
    private static readonly JsonTypeInfo<JsonLinesDeadLetterStoreTests.Order> s_order = JsonLinesDeadLetterStoreTests.OrderJson.Default.Order;

    private static async Task WriteAsync(string path, params int[] ids)
    {
        await using var store = new JsonLinesDeadLetterStore(new DeadLetterSettings { Path = path });
        foreach (var id in ids)
        {
            await store.WriteAsync(
                new DeadLetter("orders", "store", new JsonLinesDeadLetterStoreTests.Order(id, "c"), "Failed", new FormatException($"bad {id}"), DateTimeOffset.UnixEpoch) { Attempts = id + 1 },
                CancellationToken.None).AsTask().WaitAsync(Bound);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_WrittenFile_ReturnsEveryEntryInOrder()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await WriteAsync(path, 0, 1, 2);

        var entries = await DeadLetterFileReader.ReadAsync(path, s_order).ToListAsync().AsTask().WaitAsync(Bound);

        Assert.Equal([0, 1, 2], entries.Select(e => e.Item!.Id));
        Assert.Equal([1, 2, 3], entries.Select(e => e.Attempts));
        Assert.Equal([1L, 2L, 3L], entries.Select(e => e.LineNumber));
        Assert.All(entries, e =>
        {
            Assert.Equal("orders", e.PipelineName);
            Assert.Equal("store", e.StageName);
            Assert.Equal("Failed", e.Reason);
            Assert.Equal("System.FormatException", e.ErrorType);
            Assert.Equal($"bad {e.Item!.Id}", e.ErrorMessage);
            Assert.Equal(DateTimeOffset.UnixEpoch, e.Timestamp);
        });
        Assert.Equal(0, entries[0].StartOffset);
        Assert.Equal(entries[0].EndOffset, entries[1].StartOffset);
        Assert.Equal(new FileInfo(path).Length, entries[2].EndOffset);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_TornLastLine_SkippedWithAWarning()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await WriteAsync(path, 0, 1);
        await File.AppendAllTextAsync(path, "{\"timestamp\":\"2026-01-01T00:00:00+00:00\",\"pipeline\":\"ord");
        var logger = new ListLogger();

        var entries = await DeadLetterFileReader.ReadAsync(path, s_order, logger).ToListAsync().AsTask().WaitAsync(Bound);

        Assert.Equal([0, 1], entries.Select(e => e.Item!.Id));
        var warning = Assert.Single(logger.Messages);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("line 3", warning.Text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_TornLineFromAnEarlierRun_SkippedAndLaterRunsRead()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await WriteAsync(path, 0);
        await File.AppendAllTextAsync(path, "{\"pipeline\":\"ord");
        await WriteAsync(path, 1);
        var logger = new ListLogger();

        var entries = await DeadLetterFileReader.ReadAsync(path, s_order, logger).ToListAsync().AsTask().WaitAsync(Bound);

        Assert.Equal([0, 1], entries.Select(e => e.Item!.Id));
        Assert.Single(logger.Messages);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_ItemOfAnotherShape_ThrowsNamingTheLine()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        await File.WriteAllTextAsync(path, "{\"item\":{\"Id\":1,\"Customer\":\"a\"}}\n{\"item\":{\"Id\":\"two\"}}\n");

        var exception = await Assert.ThrowsAsync<InvalidDataException>(
            () => DeadLetterFileReader.ReadAsync(path, s_order).ToListAsync().AsTask()).WaitAsync(Bound);

        Assert.Contains("line 2", exception.Message, StringComparison.Ordinal);
        Assert.Contains(path, exception.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_LongLinesAndCrlf_Read()
    {
        using var directory = new TempDirectory();
        var path = directory.File("dead.jsonl");
        var customer = new string('é', 100_000);
        await File.WriteAllTextAsync(path, $"{{\"item\":{{\"Id\":1,\"Customer\":\"{customer}\"}}}}\r\n{{\"item\":{{\"Id\":2,\"Customer\":\"b\"}}}}\r\n");

        var entries = await DeadLetterFileReader.ReadAsync(path, s_order).ToListAsync().AsTask().WaitAsync(Bound);

        Assert.Equal(customer, entries[0].Item!.Customer);
        Assert.Equal(2, entries[1].Item!.Id);
        Assert.Equal(1, entries[0].Attempts);
    }

    internal sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Text)> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Messages)
            {
                Messages.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
