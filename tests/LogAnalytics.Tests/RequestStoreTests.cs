using Microsoft.Data.Sqlite;

namespace LogAnalytics.Tests;

public sealed class RequestStoreTests
{
    private static EnrichedRequest Request(long offset, string path, int status, long bytes, string? userAgent, int second = 0) =>
        Enricher.Enrich(new AccessLogEntry
        {
            Source = "/logs/a.log",
            Offset = offset,
            Client = "10.0.0.1",
            Time = new DateTimeOffset(2026, 3, 14, 12, 0, second, TimeSpan.Zero),
            Method = "GET",
            Path = path,
            Status = status,
            Bytes = bytes,
            UserAgent = userAgent,
        });

    [Fact]
    public void Write_Batch_StoresRowsAndMinuteAggregates()
    {
        using var folder = new TempDirectory();
        using (var store = RequestStore.Open(folder.File("db.sqlite")))
        {
            Assert.Equal(3, store.Write([Request(0, "/api/orders/1", 200, 10, "curl/8"), Request(10, "/api/orders/2?x", 200, 20, "Mozilla/5.0"), Request(20, "/", 404, 5, null, 59)]));
        }

        Assert.Equal(
            [("/", 404, 1L, 5L, 0L), ("/api/orders/{id}", 200, 2L, 30L, 1L)],
            MinuteStats(folder.File("db.sqlite")));
        Assert.Equal("wal", Scalar(folder.File("db.sqlite"), "PRAGMA journal_mode"));
    }

    [Fact]
    public void Write_RedeliveredLines_AreStoredOnceAndCountedOnce()
    {
        using var folder = new TempDirectory();
        using var store = RequestStore.Open(folder.File("db.sqlite"));
        store.Write([Request(0, "/a", 200, 10, "x"), Request(10, "/a", 200, 20, "x")]);

        var inserted = store.Write([Request(10, "/a", 200, 20, "x"), Request(20, "/a", 200, 30, "x")]);

        Assert.Equal(1, inserted);
        Assert.Equal(3, store.Inserted);
        Assert.Equal(1, store.AlreadyStored);
        Assert.Equal(3L, Scalar(folder.File("db.sqlite"), "SELECT COUNT(*) FROM requests"));
        Assert.Equal([("/a", 200, 3L, 60L, 0L)], MinuteStats(folder.File("db.sqlite")));
    }

    [Fact]
    public void Write_EncodedBatchWrittenTwice_AddsItsAggregatesOnce()
    {
        // A batch whose write is retried after its lines were stored: the totals encoded with it must not be added again.
        using var folder = new TempDirectory();
        using var store = RequestStore.Open(folder.File("db.sqlite"));
        var rows = RequestRows.Encode([Request(0, "/a", 200, 10, "x"), Request(10, "/a", 200, 20, "Googlebot/2.1")]);
        Assert.Equal(2, store.Write(rows));

        Assert.Equal(0, store.Write(rows));
        Assert.Equal(1, store.Write(RequestRows.Encode([Request(10, "/a", 200, 20, "Googlebot/2.1"), Request(20, "/a", 200, 30, "x")])));

        Assert.Equal(3, store.Inserted);
        Assert.Equal(3, store.AlreadyStored);
        Assert.Equal([("/a", 200, 3L, 60L, 1L)], MinuteStats(folder.File("db.sqlite")));
    }

    [Fact]
    public void Write_LargeBatchWithOneLineStoredBefore_StoresAndCountsOnlyTheNewOnes()
    {
        // Rows go in many to a statement: one line stored before (not a bot), deep inside a batch (where it is one), must still be
        // told apart from the new ones.
        using var folder = new TempDirectory();
        using var store = RequestStore.Open(folder.File("db.sqlite"));
        store.Write([Request(500, "/a", 200, 1000, "x")]);

        var inserted = store.Write(Enumerable.Range(0, 100).Select(index => Request(index * 10, "/a", 200, index, index % 2 == 0 ? "Googlebot/2.1" : "x")).ToList());

        Assert.Equal(99, inserted);
        Assert.Equal(100, store.Inserted);
        Assert.Equal(1, store.AlreadyStored);
        Assert.Equal(100L, Scalar(folder.File("db.sqlite"), "SELECT COUNT(*) FROM requests"));
        Assert.Equal([("/a", 200, 100L, 1000L + Enumerable.Range(0, 100).Sum() - 50, 49L)], MinuteStats(folder.File("db.sqlite")));
        LogAnalyticsAppTests.AssertAggregatesMatchRequests(folder.File("db.sqlite"));
    }

    [Fact]
    public void Write_TextColumns_StoredAsGivenWithEmptyAndNullKeptApart()
    {
        using var folder = new TempDirectory();
        using (var store = RequestStore.Open(folder.File("db.sqlite")))
        {
            var entry = Request(0, "/caf\u00e9/\u65e5\u672c", 200, 10, string.Empty).Entry with { Referer = "https://example.com/\u00fc" };
            store.Write([Enricher.Enrich(entry), Request(10, "/b", 200, 10, null)]);
        }

        Assert.Equal("/caf\u00e9/\u65e5\u672c", Scalar(folder.File("db.sqlite"), "SELECT path FROM requests WHERE offset = 0"));
        Assert.Equal("https://example.com/\u00fc", Scalar(folder.File("db.sqlite"), "SELECT referer FROM requests WHERE offset = 0"));
        Assert.Equal("text", Scalar(folder.File("db.sqlite"), "SELECT typeof(user_agent) FROM requests WHERE offset = 0"));
        Assert.Equal(string.Empty, Scalar(folder.File("db.sqlite"), "SELECT user_agent FROM requests WHERE offset = 0"));
        Assert.Equal("null", Scalar(folder.File("db.sqlite"), "SELECT typeof(user_agent) FROM requests WHERE offset = 10"));
        Assert.Equal("null", Scalar(folder.File("db.sqlite"), "SELECT typeof(referer) FROM requests WHERE offset = 10"));
        Assert.Equal("/logs/a.log", Scalar(folder.File("db.sqlite"), "SELECT source FROM requests WHERE offset = 10"));
    }

    [Fact]
    public void Encode_Batch_EnumeratesItsRequestsAndSerializesAsTheirList()
    {
        List<EnrichedRequest> requests = [Request(0, "/a", 200, 10, "x"), Request(10, "/b", 404, 20, null)];

        var rows = RequestRows.Encode(requests);

        Assert.Equal(requests, rows);
        Assert.Same(rows, RequestRows.Encode(rows));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize<object>(requests), System.Text.Json.JsonSerializer.Serialize<object>(rows));
    }

    [Fact]
    public void Write_BatchThatFails_StoresNothingOfIt()
    {
        using var folder = new TempDirectory();
        using var store = RequestStore.Open(folder.File("db.sqlite"));
        store.Write([Request(0, "/a", 200, 10, "x")]);
        using (var connection = RequestStore.OpenConnection(folder.File("db.sqlite")))
        using (var command = connection.CreateCommand())
        {
            // Rejects the second row of the next batch after the first was inserted.
            command.CommandText = "CREATE TRIGGER reject AFTER INSERT ON requests WHEN NEW.offset = 30 BEGIN SELECT RAISE(ABORT, 'rejected'); END";
            command.ExecuteNonQuery();
        }

        Assert.Throws<SqliteException>(() => store.Write([Request(20, "/b", 200, 10, "x"), Request(30, "/b", 200, 10, "x")]));

        Assert.Equal(1L, Scalar(folder.File("db.sqlite"), "SELECT COUNT(*) FROM requests"));
        Assert.Equal([("/a", 200, 1L, 10L, 0L)], MinuteStats(folder.File("db.sqlite")));
        Assert.Equal(1, store.Inserted);
    }

    [Fact(Timeout = 120_000)]
    public async Task Write_TwoStoresOnOneFileAtOnce_StoreEachRequestOnceAndCountItOnce()
    {
        // Two connections to one file, as two consumer processes have: overlapping batches (a claimed entry is delivered to both).
        using var folder = new TempDirectory();
        var db = folder.File("db.sqlite");
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, 2).Select(writer => Task.Run(async () =>
        {
            using var store = RequestStore.Open(db);
            await start.Task;
            for (var batch = 0; batch < 100; batch++)
            {
                // Writer 0 takes offsets 0..99 of each block of 150, writer 1 offsets 50..149: 50 of every 150 go to both.
                var first = (batch * 150) + (writer * 50);
                store.Write(Enumerable.Range(first, 100).Select(offset => Request(offset, "/a", 200, 10, null, offset % 60)).ToList());
            }

            return store.Inserted;
        })).ToArray();
        start.SetResult();

        var inserted = await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(100));

        Assert.Equal(100 * 150, inserted.Sum());
        Assert.Equal(100 * 150, LogAnalyticsAppTests.CountRows(db));
        Assert.Equal([("/a", 200, 100L * 150, 100L * 150 * 10, 0L)], MinuteStats(db));
        LogAnalyticsAppTests.AssertAggregatesMatchRequests(db);
    }

    internal static List<(string Route, int Status, long Requests, long Bytes, long Bots)> MinuteStats(string path)
    {
        using var connection = RequestStore.OpenConnection(path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT route, status, SUM(requests), SUM(bytes), SUM(bots) FROM minute_stats GROUP BY route, status ORDER BY route, status";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, int, long, long, long)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        return rows;
    }

    internal static object? Scalar(string path, string sql)
    {
        using var connection = RequestStore.OpenConnection(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
