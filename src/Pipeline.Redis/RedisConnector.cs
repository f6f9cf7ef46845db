using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>
/// Opens and shares one <see cref="ConnectionMultiplexer"/> per connection string (StackExchange.Redis is designed for one shared
/// multiplexer per server), and turns a failed first connection into a message that names the endpoints and never the password.
/// </summary>
/// <remarks>Thread-safe. Disposing closes every multiplexer it opened.</remarks>
internal sealed class RedisConnector : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<IConnectionMultiplexer>>> _connections = new(StringComparer.Ordinal);

    /// <summary>Returns the shared multiplexer of <paramref name="connectionString"/>, connecting it on first use.</summary>
    /// <exception cref="RedisUnavailableException">Thrown when the first connection fails; the message names the endpoints only.</exception>
    public async ValueTask<IConnectionMultiplexer> GetAsync(string connectionString, string settingPath)
    {
        var lazy = _connections.GetOrAdd(connectionString, key => new Lazy<Task<IConnectionMultiplexer>>(() => ConnectAsync(key, settingPath)));
        try
        {
            return await lazy.Value.ConfigureAwait(false);
        }
        catch (RedisUnavailableException)
        {
            // A failed connection is not cached: the next run tries again.
            _connections.TryRemove(new KeyValuePair<string, Lazy<Task<IConnectionMultiplexer>>>(connectionString, lazy));
            throw;
        }
    }

    /// <summary>Connects to <paramref name="connectionString"/>, failing fast when no endpoint answers.</summary>
    /// <exception cref="RedisUnavailableException">Thrown when no endpoint answers; the message names the endpoints only.</exception>
    public static async Task<IConnectionMultiplexer> ConnectAsync(string connectionString, string settingPath)
    {
        var configuration = ConfigurationOptions.Parse(connectionString);

        // Fail the start with a clear message rather than retry silently; once connected, the multiplexer reconnects by itself.
        configuration.AbortOnConnectFail = true;
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }
        catch (RedisConnectionException exception)
        {
            throw new RedisUnavailableException(
                $"Could not connect to Redis at {DescribeEndpoints(configuration)} (from {settingPath}): {exception.FailureType}");
        }
    }

    /// <summary>Returns the endpoints of <paramref name="configuration"/>, comma-separated: what a message may show of a connection string.</summary>
    public static string DescribeEndpoints(ConfigurationOptions configuration) =>
        string.Join(", ", configuration.EndPoints.Select(EndPointCollection.ToString));

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _connections.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                await lazy.Value.Result.DisposeAsync().ConfigureAwait(false);
            }
        }

        _connections.Clear();
    }
}
