using Microsoft.Data.Sqlite;

namespace LogAnalytics;

/// <summary>
/// The SQLite database of requests: table <c>requests</c> (primary key <c>source</c>, <c>offset</c>) and the per-minute aggregates
/// <c>minute_stats</c> (primary key <c>minute</c>, <c>route</c>, <c>status</c>). Journal in WAL mode; each batch is one transaction
/// through prepared statements that are reused. A line already stored (same source and offset, re-delivered after a crash or a
/// re-run) is skipped by the upsert and not counted into the aggregates again, and a batch that fails is rolled back whole, so the
/// aggregates always equal what <c>requests</c> holds. Not thread-safe: one writer per instance. Several instances — several consumer
/// processes — may write one file at once: WAL lets readers go on while one writes, each batch's transaction begins
/// <c>IMMEDIATE</c> and so takes the write lock up front, and a writer that finds it taken waits up
/// to the busy timeout (30 s) instead of failing. The upsert key makes a line given to both store it once.
/// </summary>
public sealed class RequestStore : IDisposable
{
    /// <summary>The schema, created when missing.</summary>
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS requests (
            source      TEXT    NOT NULL,
            offset      INTEGER NOT NULL,
            time        INTEGER NOT NULL,
            client      TEXT    NOT NULL,
            method      TEXT    NOT NULL,
            path        TEXT    NOT NULL,
            route       TEXT    NOT NULL,
            status      INTEGER NOT NULL,
            bytes       INTEGER NOT NULL,
            referer     TEXT,
            user_agent  TEXT,
            is_bot      INTEGER NOT NULL,
            PRIMARY KEY (source, offset)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS minute_stats (
            minute      INTEGER NOT NULL,
            route       TEXT    NOT NULL,
            status      INTEGER NOT NULL,
            requests    INTEGER NOT NULL,
            bytes       INTEGER NOT NULL,
            bots        INTEGER NOT NULL,
            PRIMARY KEY (minute, route, status)
        ) WITHOUT ROWID;
        """;

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insertRequest;
    private readonly SqliteCommand _addToMinute;
    private readonly SqliteParameter[] _requestParameters;
    private readonly SqliteParameter[] _minuteParameters;
    private readonly Dictionary<(long Minute, string Route, int Status), MinuteTotals> _minutes = [];

    private RequestStore(SqliteConnection connection)
    {
        _connection = connection;
        _insertRequest = connection.CreateCommand();
        _insertRequest.CommandText = """
            INSERT INTO requests (source, offset, time, client, method, path, route, status, bytes, referer, user_agent, is_bot)
            VALUES ($source, $offset, $time, $client, $method, $path, $route, $status, $bytes, $referer, $user_agent, $is_bot)
            ON CONFLICT (source, offset) DO NOTHING
            """;
        _requestParameters = AddParameters(_insertRequest, "$source", "$offset", "$time", "$client", "$method", "$path", "$route", "$status", "$bytes", "$referer", "$user_agent", "$is_bot");
        _addToMinute = connection.CreateCommand();
        _addToMinute.CommandText = """
            INSERT INTO minute_stats (minute, route, status, requests, bytes, bots) VALUES ($minute, $route, $status, $requests, $bytes, $bots)
            ON CONFLICT (minute, route, status) DO UPDATE SET
                requests = requests + excluded.requests, bytes = bytes + excluded.bytes, bots = bots + excluded.bots
            """;
        _minuteParameters = AddParameters(_addToMinute, "$minute", "$route", "$status", "$requests", "$bytes", "$bots");
    }

    /// <summary>Gets how many requests this instance stored (new rows).</summary>
    public long Inserted { get; private set; }

    /// <summary>Gets how many requests this instance was given that were already stored (re-delivered lines).</summary>
    public long AlreadyStored { get; private set; }

    /// <summary>Opens (creating when missing) the database at <paramref name="path"/>, switches it to WAL and creates the schema.</summary>
    /// <param name="path">The database file; its directory is created when missing.</param>
    /// <returns>The open store.</returns>
    /// <exception cref="SqliteException">Thrown when the file cannot be opened or is not a database.</exception>
    public static RequestStore Open(string path)
    {
        var connection = OpenConnection(path);
        try
        {
            using (var setup = connection.CreateCommand())
            {
                // WAL with synchronous NORMAL: a commit survives a crash of the process (not of the machine) without an fsync per batch.
                setup.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; " + Schema;
                setup.ExecuteNonQuery();
            }

            var store = new RequestStore(connection);
            store._insertRequest.Prepare();
            store._addToMinute.Prepare();
            return store;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens a connection to the database at <paramref name="path"/> (busy timeout 30 s), creating its directory when missing.</summary>
    /// <param name="path">The database file.</param>
    /// <returns>The open connection.</returns>
    public static SqliteConnection OpenConnection(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Stores <paramref name="batch"/> in one transaction: new requests are inserted and added to their minute's aggregates.</summary>
    /// <param name="batch">The requests.</param>
    /// <returns>How many of them were new.</returns>
    /// <exception cref="SqliteException">Thrown when the database fails; nothing of the batch is stored then.</exception>
    public int Write(IReadOnlyList<EnrichedRequest> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // Not deferred (BEGIN IMMEDIATE): the write lock is taken, or waited for, before the first statement, never by upgrading a read.
        using var transaction = _connection.BeginTransaction(deferred: false);
        _insertRequest.Transaction = transaction;
        _addToMinute.Transaction = transaction;
        _minutes.Clear();
        var inserted = 0;
        var p = _requestParameters;
        foreach (var request in batch)
        {
            var entry = request.Entry;
            var unixSeconds = entry.Time.ToUnixTimeSeconds();
            p[0].Value = entry.Source;
            p[1].Value = entry.Offset;
            p[2].Value = unixSeconds;
            p[3].Value = entry.Client;
            p[4].Value = entry.Method;
            p[5].Value = entry.Path;
            p[6].Value = request.Route;
            p[7].Value = entry.Status;
            p[8].Value = entry.Bytes;
            p[9].Value = (object?)entry.Referer ?? DBNull.Value;
            p[10].Value = (object?)entry.UserAgent ?? DBNull.Value;
            p[11].Value = request.IsBot ? 1 : 0;
            if (_insertRequest.ExecuteNonQuery() == 0)
            {
                continue;
            }

            inserted++;
            var key = (unixSeconds - (unixSeconds % 60), request.Route, entry.Status);
            var totals = _minutes.GetValueOrDefault(key);
            _minutes[key] = new MinuteTotals(totals.Requests + 1, totals.Bytes + entry.Bytes, totals.Bots + (request.IsBot ? 1 : 0));
        }

        var m = _minuteParameters;
        foreach (var (key, totals) in _minutes)
        {
            m[0].Value = key.Minute;
            m[1].Value = key.Route;
            m[2].Value = key.Status;
            m[3].Value = totals.Requests;
            m[4].Value = totals.Bytes;
            m[5].Value = totals.Bots;
            _addToMinute.ExecuteNonQuery();
        }

        transaction.Commit();
        Inserted += inserted;
        AlreadyStored += batch.Count - inserted;
        return inserted;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _insertRequest.Dispose();
        _addToMinute.Dispose();
        _connection.Dispose();
    }

    private static SqliteParameter[] AddParameters(SqliteCommand command, params string[] names)
    {
        var parameters = new SqliteParameter[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            parameters[i] = command.Parameters.Add(new SqliteParameter { ParameterName = names[i] });
        }

        return parameters;
    }

    private readonly record struct MinuteTotals(long Requests, long Bytes, long Bots);
}
