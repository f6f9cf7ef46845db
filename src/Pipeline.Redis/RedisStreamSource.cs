using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>
/// Reads a Redis stream through a consumer group (<c>XREADGROUP</c>) as an <see cref="IAcknowledgingSource{T}"/>: an entry is
/// acknowledged (<c>XACK</c>) only once the engine has accounted for its item (sunk, dead-lettered, skipped or dropped), so a
/// consumer that dies leaves its unfinished entries pending for a live one to claim.
/// </summary>
/// <typeparam name="T">The type of the items, as <see cref="RedisStreamSink{T}"/> wrote them (System.Text.Json in the field <c>item</c>).</typeparam>
/// <remarks>
/// <para>
/// <b>Reading.</b> The group is created (with the stream, <c>MKSTREAM</c>, from its first entry) if missing. An enumeration first
/// re-reads this consumer's own pending entries (id <c>0</c>), then new ones (<c>&gt;</c>), <see cref="RedisStreamOptions.BatchSize"/>
/// per round trip. It never uses <c>BLOCK</c>, which would stall the shared multiplexer: while the stream is empty it polls with a
/// backoff from 1 millisecond doubling to 100 milliseconds, back to 1 millisecond as soon as an entry arrives. Entries read but not
/// yet yielded when the pipeline stops stay pending, unacknowledged.
/// </para>
/// <para>
/// <b>Positions.</b> A per-source counter (1, 2, 3, …) mapped to entry ids; <see cref="AcknowledgeAsync"/>(P) acknowledges every
/// entry yielded at or before P.
/// </para>
/// <para>
/// <b>Dead consumers and poison entries.</b> Every half <see cref="RedisStreamOptions.ClaimIdleTime"/> the source takes over entries
/// pending longer than that with any consumer (<c>XAUTOCLAIM</c>). An entry delivered more than
/// <see cref="RedisStreamOptions.MaxDeliveries"/> times, or whose item cannot be read, goes to the dead-letter store (reason
/// <c>MaxDeliveries</c> or <c>Unreadable</c>, <see cref="DeadLetter.Attempts"/> = its deliveries before this one) and is acknowledged.
/// Without a store it is logged and left pending, never acknowledged unseen.
/// </para>
/// <para>
/// <b>Outages.</b> A connection error or timeout pauses reading and acknowledging, retried with backoff (100 milliseconds doubling to
/// 5 seconds): no entry is lost or skipped, and the stage applies back-pressure. After a failed read the source re-reads its own
/// pending entries, in case the failed read had delivered some. A group lost with the server's data is created again.
/// </para>
/// <para>Thread-safety: one enumeration at a time; <see cref="AcknowledgeAsync"/> from any thread, never concurrently with itself.</para>
/// </remarks>
public sealed partial class RedisStreamSource<T> : IAcknowledgingSource<T>
{
    /// <summary>The engine's activity source by name (<c>Pipeline</c>), to ask whether anything listens: one per process, never started.</summary>
    private static readonly System.Diagnostics.ActivitySource s_pipelineActivities = new("Pipeline");

    /// <summary>The first pause of an idle poll.</summary>
    internal static readonly TimeSpan MinPollDelay = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest pause of an idle poll: the most latency an entry arriving in an idle stream waits.</summary>
    internal static readonly TimeSpan MaxPollDelay = TimeSpan.FromMilliseconds(100);

    private readonly LazyDatabase _database;
    private readonly RedisStreamOptions _options;
    private readonly RedisKey _stream;
    private readonly RedisValue _group;
    private readonly RedisValue _consumer;
    private readonly JsonTypeInfo<T> _itemTypeInfo;
    private readonly IDeadLetterStore? _deadLetters;
    private readonly ILogger _logger;

    /// <summary>Guards <see cref="_unacknowledged"/> and <see cref="_held"/>.</summary>
    private readonly Lock _sync = new();

    /// <summary>Entries yielded and not yet acknowledged, in position order.</summary>
    private readonly Queue<(long Position, RedisValue Id)> _unacknowledged = new();

    /// <summary>Ids this source holds: yielded and not yet acknowledged, or parked (unprocessable, no dead-letter store). Never yielded again.</summary>
    private readonly HashSet<RedisValue> _held = [];

    /// <summary>Ids parked: unprocessable with no dead-letter store, left pending and never yielded.</summary>
    private readonly HashSet<RedisValue> _parked = [];

    /// <summary>The last position handed out; positions start at 1.</summary>
    private long _lastPosition;


    /// <summary>Initializes a source reading <see cref="RedisStreamOptions.Stream"/> through <see cref="RedisStreamOptions.Group"/>.</summary>
    /// <param name="connection">The multiplexer, shared and owned by the caller (not disposed by the source).</param>
    /// <param name="options">The stream, group and consumer (required), batch size, claim idle time and maximum deliveries.</param>
    /// <param name="itemTypeInfo">Deserializes the items (trimming and AOT safe); <see langword="null"/> for reflection with default options.</param>
    /// <param name="deadLetters">Receives entries delivered more than <see cref="RedisStreamOptions.MaxDeliveries"/> times or unreadable; <see langword="null"/> to leave them pending.</param>
    /// <param name="logger">Receives claims, dead letters and retry warnings; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="connection"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="options"/> are invalid; the message names every bad setting.</exception>
    public RedisStreamSource(
        IConnectionMultiplexer connection, RedisStreamOptions options, JsonTypeInfo<T>? itemTypeInfo = null, IDeadLetterStore? deadLetters = null, ILogger? logger = null)
        : this(RedisStreamArguments.ValidConnection(connection), RedisStreamArguments.Checked(options, requireGroup: true), itemTypeInfo, deadLetters, logger)
    {
    }

    internal RedisStreamSource(
        Func<ValueTask<IConnectionMultiplexer>> connect, RedisStreamOptions options, JsonTypeInfo<T>? itemTypeInfo, IDeadLetterStore? deadLetters, ILogger? logger)
    {
        _database = new LazyDatabase(connect);
        _options = options;
        _stream = options.Stream;
        _group = options.Group;
        _consumer = options.Consumer;
        _itemTypeInfo = RedisStreamEntryFormat.Resolve(itemTypeInfo);
        _deadLetters = deadLetters;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the consumer name this source reads as.</summary>
    public string Consumer => _options.Consumer;

    /// <summary>Gets the time source of poll and retry delays; a test replaces it.</summary>
    internal TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets or sets the pipeline name recorded in dead letters; defaults to the group.</summary>
    internal string? PipelineName { get; init; }

    /// <summary>Returns the entries of the stream not yet acknowledged by the group: this consumer's pending ones first, then new and claimed ones.</summary>
    /// <param name="stoppingToken">Ends the sequence when cancelled; entries read but not yet yielded stay pending.</param>
    /// <returns>The items, positions strictly increasing.</returns>
    /// <exception cref="RedisUnavailableException">Thrown, when enumerated, if the first connection fails; names the endpoints, never the password.</exception>
    /// <exception cref="RedisServerException">Thrown, when enumerated, if Redis rejects a command for good (e.g. the key holds another type).</exception>
    public IAsyncEnumerable<PositionedItem<T>> ReadAsync(CancellationToken stoppingToken) => ReadEntriesAsync(stoppingToken);

    private async IAsyncEnumerable<PositionedItem<T>> ReadEntriesAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        var database = await _database.GetAsync().ConfigureAwait(false);
        if (!await CreateGroupAsync(database, stoppingToken).ConfigureAwait(false))
        {
            yield break;
        }

        lock (_sync)
        {
            // Entries a previous enumeration read but never yielded are this consumer's pending ones again: re-read, not skipped.
            _held.Clear();
            _held.UnionWith(_parked);
            _held.UnionWith(_unacknowledged.Select(entry => entry.Id));
        }

        var reader = new ReadState(TimeProvider.GetTimestamp());
        while (!stoppingToken.IsCancellationRequested)
        {
            var entries = await FetchAsync(database, reader, stoppingToken).ConfigureAwait(false);
            if (entries is null)
            {
                yield break;
            }

            foreach (var (entry, item) in entries)
            {
                long position;
                lock (_sync)
                {
                    position = ++_lastPosition;
                    _unacknowledged.Enqueue((position, entry.Id));
                }

                // The engine traces an item only while something listens to its activity source: read the context only then.
                var traceContext = s_pipelineActivities.HasListeners() ? RedisStreamEntryFormat.ReadTraceContext(entry) : default;
                yield return new PositionedItem<T>(item, position, isReplay: false, traceContext);
                if (stoppingToken.IsCancellationRequested)
                {
                    yield break;
                }
            }
        }
    }
}
