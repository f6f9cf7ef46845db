namespace Pipeline.Redis;

/// <summary>
/// Where and how a pipeline crosses a Redis stream: the server, the stream, the consumer group and this process's consumer in it.
/// Bound from <c>Pipelines:{name}:Redis</c> by
/// <see cref="Microsoft.Extensions.DependencyInjection.RedisStreamServiceCollectionExtensions.AddRedisStreams(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Action{RedisStreamOptions})"/>
/// and validated at start by <see cref="RedisStreamOptionsValidator"/>.
/// </summary>
/// <remarks>Not thread-safe: set it up before the source or sink is created, and do not change it afterwards.</remarks>
public sealed class RedisStreamOptions
{
    /// <summary>The configuration section under a pipeline's section: <c>Pipelines:{name}:Redis</c>.</summary>
    public const string SectionName = "Redis";

    /// <summary>The default <see cref="BatchSize"/>: 100 entries.</summary>
    public const int DefaultBatchSize = 100;

    /// <summary>The smallest allowed <see cref="BatchSize"/>: 1.</summary>
    public const int MinBatchSize = 1;

    /// <summary>The largest allowed <see cref="BatchSize"/>: 10,000.</summary>
    public const int MaxBatchSize = 10_000;

    /// <summary>The default <see cref="MaxDeliveries"/>: 5.</summary>
    public const int DefaultMaxDeliveries = 5;

    /// <summary>The smallest allowed <see cref="MaxDeliveries"/>: 1.</summary>
    public const int MinMaxDeliveries = 1;

    /// <summary>The largest allowed <see cref="MaxDeliveries"/>: 1,000.</summary>
    public const int MaxMaxDeliveries = 1_000;

    /// <summary>The default <see cref="ClaimIdleTime"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultClaimIdleTime = TimeSpan.FromSeconds(30);

    /// <summary>The smallest allowed <see cref="ClaimIdleTime"/>: 10 milliseconds.</summary>
    public static readonly TimeSpan MinClaimIdleTime = TimeSpan.FromMilliseconds(10);

    /// <summary>The largest allowed <see cref="ClaimIdleTime"/>: one day.</summary>
    public static readonly TimeSpan MaxClaimIdleTime = TimeSpan.FromDays(1);

    /// <summary>
    /// Gets or sets the StackExchange.Redis connection string, e.g. <c>localhost:6379</c> or
    /// <c>redis.example:6380,ssl=true,user=app,password=…</c>. TLS, user and password go here; the password never appears in
    /// messages or logs.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: required.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the key of the stream.</summary>
    /// <value>The default value is <see langword="null"/>: required.</value>
    public string? Stream { get; set; }

    /// <summary>Gets or sets the consumer group the source reads through; created (with the stream) if missing. Not used by the sink.</summary>
    /// <value>The default value is <see langword="null"/>: required by the source.</value>
    public string? Group { get; set; }

    /// <summary>
    /// Gets or sets this source's consumer name in the group. Two live sources must not share a name: the pending entries of a
    /// consumer are re-read by whichever source starts with its name.
    /// </summary>
    /// <value>The default value is the host name and the process id, <c>{host name}-{process id}</c>.</value>
    public string Consumer { get; set; } = DefaultConsumer();

    /// <summary>
    /// Gets or sets how many entries one round trip reads (<c>XREADGROUP COUNT</c>, <c>XAUTOCLAIM COUNT</c>) or, for the sink, how
    /// many items it keeps in flight per round trip.
    /// </summary>
    /// <value>The default value is 100. Allowed: 1 to 10,000.</value>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>
    /// Gets or sets how long an entry may stay pending (read, not acknowledged) with a consumer before a live source takes it over
    /// with <c>XAUTOCLAIM</c>: longer than the slowest item takes to be accounted for, or live consumers will steal each other's work.
    /// </summary>
    /// <value>The default value is 30 seconds. Allowed: 10 milliseconds to one day.</value>
    public TimeSpan ClaimIdleTime { get; set; } = DefaultClaimIdleTime;

    /// <summary>
    /// Gets or sets how many times an entry may be delivered without being acknowledged. An entry claimed once more than that goes
    /// to the dead-letter store with its delivery count and is acknowledged, instead of crashing consumers forever.
    /// </summary>
    /// <value>The default value is 5. Allowed: 1 to 1,000.</value>
    public int MaxDeliveries { get; set; } = DefaultMaxDeliveries;

    /// <summary>
    /// Gets or sets whether the source deletes the entries that every consumer group of the stream has acknowledged
    /// (<c>XTRIM MINID</c> below the oldest entry any group still needs: its oldest pending one, or the first it has not been
    /// delivered), at most once a second after an acknowledgement. An entry not yet acknowledged by every group is never deleted,
    /// nor is anything in a stream without a group. Needs Redis 6.2 or later (on an older server trimming turns itself off with a
    /// warning). Turn it off when other readers (<c>XRANGE</c>, another tool) need entries after the groups are done with them.
    /// </summary>
    /// <value>The default value is <see langword="true"/>: a stream that is only ever appended to grows until Redis runs out of memory.</value>
    public bool TrimAcknowledged { get; set; } = true;

    /// <summary>Returns a copy of every setting, which later changes to these options do not reach.</summary>
    internal RedisStreamOptions Copy() => (RedisStreamOptions)MemberwiseClone();

    /// <summary>Returns <c>{host name}-{process id}</c>, the default <see cref="Consumer"/>.</summary>
    /// <returns>The default consumer name.</returns>
    public static string DefaultConsumer() => $"{Environment.MachineName}-{Environment.ProcessId}";
}
