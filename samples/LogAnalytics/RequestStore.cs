using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LogAnalytics;

/// <summary>
/// The SQLite database of requests: table <c>requests</c> (primary key <c>source</c>, <c>offset</c>) and the per-minute aggregates
/// <c>minute_stats</c> (primary key <c>minute</c>, <c>route</c>, <c>status</c>). Journal in WAL mode; each batch is one transaction
/// through prepared statements that are reused, its rows inserted 32 to a statement, its aggregates added once per minute, route and
/// status. A line already stored (same source and offset, re-delivered after a crash or a
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

    /// <summary>The rows one multi-row insert takes: fewer steps, resets and statement starts per row than one insert a row.</summary>
    private const int ChunkRows = 32;

    /// <summary>The columns of <c>requests</c>, which is also the number of parameters one row binds.</summary>
    private const int RequestColumns = 12;

    /// <summary>The savepoint at the start of a batch's transaction, rolled back to when some of its lines were stored before.</summary>
    private const string BatchSavepoint = "batch";

    /// <summary>The statement that inserts one request, skipping a line already stored (same source and offset).</summary>
    private static readonly string s_insertRequestSql = InsertRequestsSql(1);

    /// <summary>The statement that inserts <see cref="ChunkRows"/> requests, skipping the lines already stored.</summary>
    private static readonly string s_insertChunkSql = InsertRequestsSql(ChunkRows);

    /// <summary>The statement that adds a batch's totals to one minute's row.</summary>
    private const string AddToMinuteSql = """
        INSERT INTO minute_stats (minute, route, status, requests, bytes, bots) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
        ON CONFLICT (minute, route, status) DO UPDATE SET
            requests = requests + excluded.requests, bytes = bytes + excluded.bytes, bots = bots + excluded.bots
        """;

    /// <summary>The parameter index of <c>client</c>, the first of the text columns laid out in <see cref="RequestRows.Text"/>.</summary>
    private const int FirstTextParameter = 4;

    private readonly SqliteConnection _connection;

    // Prepared once and bound by index through SQLitePCL (the provider under Microsoft.Data.Sqlite): binding by name through
    // SqliteCommand looks every parameter's index up and transcodes every string on each execution, which cost about half of the
    // store's time per row.
    private readonly sqlite3_stmt _insertRequest;
    private readonly sqlite3_stmt _insertChunk;
    private readonly sqlite3_stmt _addToMinute;

    private RequestStore(SqliteConnection connection, sqlite3_stmt insertRequest, sqlite3_stmt insertChunk, sqlite3_stmt addToMinute)
    {
        _connection = connection;
        _insertRequest = insertRequest;
        _insertChunk = insertChunk;
        _addToMinute = addToMinute;
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

            var statements = new List<sqlite3_stmt>(3);
            try
            {
                foreach (var sql in new[] { s_insertRequestSql, s_insertChunkSql, AddToMinuteSql })
                {
                    statements.Add(Prepare(connection, sql));
                }

                return new RequestStore(connection, statements[0], statements[1], statements[2]);
            }
            catch
            {
                statements.ForEach(statement => statement.Dispose());
                throw;
            }
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

    /// <summary>
    /// Stores <paramref name="batch"/> in one transaction: new requests are inserted and added to their minute's aggregates. When a
    /// line of the batch was stored before, the batch is inserted again one row at a time within the transaction (slower, and rare:
    /// only re-delivered lines).
    /// </summary>
    /// <param name="batch">The requests; a list that is not a <see cref="RequestRows"/> is encoded first (<see cref="RequestRows.Encode"/>).</param>
    /// <returns>How many of them were new.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="batch"/> is <see langword="null"/>.</exception>
    /// <exception cref="SqliteException">Thrown when the database fails; nothing of the batch is stored then.</exception>
    public int Write(IReadOnlyList<EnrichedRequest> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var rows = RequestRows.Encode(batch);

        // Not deferred (BEGIN IMMEDIATE): the write lock is taken, or waited for, before the first statement, never by upgrading a read.
        using var transaction = _connection.BeginTransaction(deferred: false);
        transaction.Save(BatchSavepoint);
        List<int>? skipped = null;
        if (!TryInsertAll(rows))
        {
            // Some lines were stored before (re-delivered, or a re-run): undo and insert one row at a time to learn which, so that
            // only the new ones are added to the aggregates.
            transaction.Rollback(BatchSavepoint);
            skipped = [];
            for (var row = 0; row < rows.Count; row++)
            {
                if (InsertRows(_insertRequest, rows, row, count: 1) == 0)
                {
                    skipped.Add(row);
                }
            }
        }

        foreach (var (key, totals) in skipped is null ? rows.Minutes : rows.MinutesWithout(skipped))
        {
            var statement = _addToMinute;
            Check(raw.sqlite3_bind_int64(statement, 1, key.Minute));
            Check(raw.sqlite3_bind_text(statement, 2, key.Route));
            Check(raw.sqlite3_bind_int(statement, 3, key.Status));
            Check(raw.sqlite3_bind_int64(statement, 4, totals.Requests));
            Check(raw.sqlite3_bind_int64(statement, 5, totals.Bytes));
            Check(raw.sqlite3_bind_int64(statement, 6, totals.Bots));
            Step(statement);
        }

        transaction.Commit();
        var inserted = rows.Count - (skipped?.Count ?? 0);
        Inserted += inserted;
        AlreadyStored += rows.Count - inserted;
        return inserted;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // Statements first: a connection with statements left open cannot close.
        _insertRequest.Dispose();
        _insertChunk.Dispose();
        _addToMinute.Dispose();
        _connection.Dispose();
    }

    /// <summary>Inserts every row of <paramref name="rows"/>, <see cref="ChunkRows"/> per statement; <see langword="false"/> as soon as
    /// a line turns out to be stored before (what was inserted is then to be rolled back).</summary>
    private bool TryInsertAll(RequestRows rows)
    {
        var row = 0;
        for (; row + ChunkRows <= rows.Count; row += ChunkRows)
        {
            if (InsertRows(_insertChunk, rows, row, ChunkRows) != ChunkRows)
            {
                return false;
            }
        }

        for (; row < rows.Count; row++)
        {
            if (InsertRows(_insertRequest, rows, row, count: 1) != 1)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Binds rows <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1 of <paramref name="rows"/>
    /// to <paramref name="statement"/> (which inserts that many) and runs it; returns how many rows it inserted.</summary>
    private int InsertRows(sqlite3_stmt statement, RequestRows rows, int first, int count)
    {
        for (var offset = 0; offset < count; offset++)
        {
            BindRequest(statement, offset * RequestColumns, rows, first + offset);
        }

        Step(statement);
        return raw.sqlite3_changes(_connection.Handle);
    }

    /// <summary>Binds row <paramref name="row"/> of <paramref name="rows"/> to the 12 parameters after <paramref name="before"/>.</summary>
    private void BindRequest(sqlite3_stmt statement, int before, RequestRows rows, int row)
    {
        var request = rows[row];
        var entry = request.Entry;
        Check(raw.sqlite3_bind_text(statement, before + 1, rows.Source(row)));
        Check(raw.sqlite3_bind_int64(statement, before + 2, entry.Offset));
        Check(raw.sqlite3_bind_int64(statement, before + 3, rows.UnixSeconds(row)));
        var text = rows.Text(row);
        var at = 0;
        for (var column = 0; column < RequestRows.TextColumns; column++)
        {
            var length = rows.TextLength(row, column);
            // Parameters 4 to 7 (client, method, path, route) and, after status and bytes, 10 and 11 (referer, user_agent).
            var index = before + FirstTextParameter + column + (column >= 4 ? 2 : 0);
            if (length == RequestRows.NullLength)
            {
                Check(raw.sqlite3_bind_null(statement, index));
            }
            else
            {
                Check(raw.sqlite3_bind_text(statement, index, text.AsSpan(at, length)));
                at += length;
            }
        }

        Check(raw.sqlite3_bind_int(statement, before + 8, entry.Status));
        Check(raw.sqlite3_bind_int64(statement, before + 9, entry.Bytes));
        Check(raw.sqlite3_bind_int(statement, before + 12, request.IsBot ? 1 : 0));
    }

    /// <summary>Runs <paramref name="statement"/> once and resets it, so that it holds nothing open between calls.</summary>
    private void Step(sqlite3_stmt statement)
    {
        var result = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (result != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(result, _connection.Handle);
        }
    }

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, _connection.Handle);
        }
    }

    /// <summary>Returns the insert of <paramref name="rows"/> requests, with parameters numbered in row order.</summary>
    private static string InsertRequestsSql(int rows) =>
        "INSERT INTO requests (source, offset, time, client, method, path, route, status, bytes, referer, user_agent, is_bot) VALUES "
        + string.Join(", ", Enumerable.Repeat("(" + string.Join(", ", Enumerable.Repeat("?", RequestColumns)) + ")", rows))
        + " ON CONFLICT (source, offset) DO NOTHING";

    private static sqlite3_stmt Prepare(SqliteConnection connection, string sql)
    {
        var result = raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement);
        if (result != raw.SQLITE_OK)
        {
            statement.Dispose();
            SqliteException.ThrowExceptionForRC(result, connection.Handle);
        }

        return statement;
    }
}
