using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>The database of a multiplexer connected on first use, kept once connected. Thread-safe; two first uses may both connect.</summary>
internal sealed class LazyDatabase(Func<ValueTask<IConnectionMultiplexer>> connect)
{
    private IDatabase? _database;

    /// <summary>Gets the database once connected, or <see langword="null"/> before the first <see cref="GetAsync"/> has completed.</summary>
    public IDatabase? Current => Volatile.Read(ref _database);

    /// <summary>Returns the database, connecting first if needed.</summary>
    /// <exception cref="RedisUnavailableException">Thrown when the first connection fails; the message names the endpoints only.</exception>
    public async ValueTask<IDatabase> GetAsync()
    {
        if (Current is { } database)
        {
            return database;
        }

        var connection = await connect().ConfigureAwait(false);
        database = connection.GetDatabase();
        Volatile.Write(ref _database, database);
        return database;
    }
}
