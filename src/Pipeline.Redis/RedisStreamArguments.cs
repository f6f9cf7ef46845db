using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>The argument checks the stream sink and source share.</summary>
internal static class RedisStreamArguments
{
    /// <summary>Returns a connect function for an existing connection.</summary>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="connection"/> is <see langword="null"/>.</exception>
    public static Func<ValueTask<IConnectionMultiplexer>> ValidConnection(IConnectionMultiplexer connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return () => new ValueTask<IConnectionMultiplexer>(connection);
    }

    /// <summary>Returns a validated copy of <paramref name="options"/> (a connection given directly needs no connection string).</summary>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when a value is out of range; the message names it.</exception>
    public static RedisStreamOptions Checked(RedisStreamOptions options, bool requireGroup)
    {
        ArgumentNullException.ThrowIfNull(options);
        var copy = options.Copy();
        copy.ConnectionString ??= "unused:0";
        RedisStreamOptionsValidator.ThrowIfInvalid(copy, requireGroup, nameof(options));
        return copy;
    }
}
