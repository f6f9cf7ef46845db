using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>
/// Appends items to a Redis stream (<c>XADD</c>), one entry per item: its System.Text.Json form in the field <c>item</c> and, when an
/// <see cref="System.Diagnostics.Activity"/> is current, its W3C trace context in <c>traceparent</c> (and <c>tracestate</c>).
/// </summary>
/// <typeparam name="T">The type of the items.</typeparam>
/// <remarks>
/// <para>
/// <b>Accounting.</b> <see cref="WriteAsync"/> completes only when Redis has stored the entry, so an item counted as sunk is in the
/// stream. Several items are in flight per round trip in two ways: concurrent calls share the multiplexer, which pipelines them
/// (a sink stage with a <c>Parallelism</c> above 1, which gives up the order of the entries), and <see cref="WriteBatchAsync"/>
/// (<see cref="AsBatchSink"/>, <c>ToRedisStreamBatched</c> after a <c>Batch</c> step) sends a whole batch, in order, before awaiting
/// any reply.
/// </para>
/// <para>
/// <b>Outages.</b> A connection error or timeout pauses the write, retried with backoff (100 milliseconds doubling to 5 seconds)
/// until it succeeds or the pipeline is aborted: the stage applies back-pressure instead of losing items. A write whose reply was
/// lost may be stored twice (at-least-once). The sink never trims the stream.
/// </para>
/// <para>Thread-safety: <see cref="WriteAsync"/> and <see cref="WriteBatchAsync"/> may be called concurrently.</para>
/// </remarks>
public sealed class RedisStreamSink<T> : ISink<T>, IStageLifecycle
{
    private readonly LazyDatabase _database;
    private readonly RedisKey _stream;
    private readonly JsonTypeInfo<T> _itemTypeInfo;
    private readonly ILogger _logger;

    /// <summary>Initializes a sink on the stream <see cref="RedisStreamOptions.Stream"/> of <paramref name="connection"/>.</summary>
    /// <param name="connection">The multiplexer, shared and owned by the caller (not disposed by the sink).</param>
    /// <param name="options">The stream (required) and <see cref="RedisStreamOptions.BatchSize"/>; the group and consumer are not used.</param>
    /// <param name="itemTypeInfo">Serializes the items (trimming and AOT safe); <see langword="null"/> for reflection with default options.</param>
    /// <param name="logger">Receives retry warnings; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="connection"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="options"/> are invalid; the message names every bad setting.</exception>
    public RedisStreamSink(IConnectionMultiplexer connection, RedisStreamOptions options, JsonTypeInfo<T>? itemTypeInfo = null, ILogger? logger = null)
        : this(RedisStreamArguments.ValidConnection(connection), RedisStreamArguments.Checked(options, requireGroup: false), itemTypeInfo, logger)
    {
    }

    internal RedisStreamSink(Func<ValueTask<IConnectionMultiplexer>> connect, RedisStreamOptions options, JsonTypeInfo<T>? itemTypeInfo, ILogger? logger)
    {
        _database = new LazyDatabase(connect);
        _stream = options.Stream;
        _itemTypeInfo = RedisStreamEntryFormat.Resolve(itemTypeInfo);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the time source of retry delays; a test replaces it.</summary>
    internal TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Connects (or takes the shared connection) before the first item, so that a bad endpoint fails the start.</summary>
    /// <param name="cancellationToken">Cancelled when the pipeline is aborted.</param>
    /// <returns>A task that completes when the sink is connected.</returns>
    /// <exception cref="RedisUnavailableException">Thrown when Redis cannot be reached; the message names the endpoints, never the password.</exception>
    public async ValueTask StartAsync(CancellationToken cancellationToken) => await _database.GetAsync().ConfigureAwait(false);

    /// <summary>Does nothing: every write has completed when it returned.</summary>
    /// <param name="cancellationToken">Not observed.</param>
    /// <returns>A completed task.</returns>
    public ValueTask StopAsync(CancellationToken cancellationToken) => default;

    /// <summary>Appends <paramref name="item"/> to the stream; completes once Redis has stored it.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancelled when the pipeline is aborted: ends the retries of an outage.</param>
    /// <returns>A task that completes when the entry is stored.</returns>
    /// <exception cref="RedisUnavailableException">Thrown when the first connection fails.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled while Redis is unreachable.</exception>
    /// <exception cref="RedisServerException">Thrown when Redis rejects the write for good (e.g. the key holds another type).</exception>
    public async ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        var database = await _database.GetAsync().ConfigureAwait(false);
        var fields = RedisStreamEntryFormat.Create(item, _itemTypeInfo);
        await RedisRetry.RunAsync(() => database.StreamAddAsync(_stream, fields), _logger, "XADD", TimeProvider, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Appends <paramref name="items"/> to the stream in order, sent in one pipelined round trip; completes once Redis has stored all
    /// of them. After an outage, the items from the first unconfirmed one onward are sent again (order kept, duplicates possible).
    /// </summary>
    /// <param name="items">The items.</param>
    /// <param name="cancellationToken">Cancelled when the pipeline is aborted: ends the retries of an outage.</param>
    /// <returns>A task that completes when every entry is stored.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="items"/> is <see langword="null"/>.</exception>
    /// <exception cref="RedisUnavailableException">Thrown when the first connection fails.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled while Redis is unreachable.</exception>
    /// <exception cref="RedisServerException">Thrown when Redis rejects a write for good.</exception>
    public async ValueTask WriteBatchAsync(IReadOnlyList<T> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return;
        }

        var database = await _database.GetAsync().ConfigureAwait(false);
        var entries = new NameValueEntry[items.Count][];
        for (var index = 0; index < entries.Length; index++)
        {
            entries[index] = RedisStreamEntryFormat.Create(items[index], _itemTypeInfo);
        }

        var confirmed = 0;
        var delay = RedisRetry.FirstDelay;
        for (var attempt = 1; confirmed < entries.Length; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = database.CreateBatch();
            var writes = new Task<RedisValue>[entries.Length - confirmed];
            for (var index = 0; index < writes.Length; index++)
            {
                writes[index] = batch.StreamAddAsync(_stream, entries[confirmed + index]);
            }

            Exception? failure = null;
            try
            {
                batch.Execute();
            }
            catch (Exception exception) when (RedisRetry.IsTransient(exception))
            {
                // No connection to send on (an outage): nothing of this attempt counts as confirmed, and its writes, which may
                // never complete, are not awaited; their faults are observed.
                failure = exception;
                foreach (var write in writes)
                {
                    ObserveFault(write);
                }

                writes = [];
            }

            // The attempt's writes complete in order. One that neither completes nor fails within twice the connection's timeout
            // of the attempt's start (lost across a reconnect) fails the attempt, and everything from the first unconfirmed write is
            // sent again: at least once, never a stalled sink. Writes after a failure are not waited for; their faults are observed.
            var patience = TimeSpan.FromMilliseconds(2 * Math.Max(1_000, database.Multiplexer.TimeoutMilliseconds));
            var started = TimeProvider.GetTimestamp();
            foreach (var write in writes)
            {
                if (failure is not null)
                {
                    ObserveFault(write);
                    continue;
                }

                try
                {
                    var left = patience - TimeProvider.GetElapsedTime(started);
                    await write.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, TimeProvider, CancellationToken.None).ConfigureAwait(false);
                    confirmed++;
                }
                catch (Exception exception) when (RedisRetry.IsTransient(exception) || exception is TimeoutException)
                {
                    failure = exception;
                    ObserveFault(write);
                }
            }

            if (failure is not null)
            {
                _logger.RedisRetrying("XADD batch", attempt, delay, failure);
                await Task.Delay(delay, TimeProvider, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, RedisRetry.MaxDelay.Ticks));
            }
        }
    }

    /// <summary>Observes a write's fault, if it ever faults, so that a write given up on is never an unobserved exception.</summary>
    private static void ObserveFault(Task write) =>
        _ = write.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>Returns this sink as a sink of batches (after a <c>Batch</c> step): each batch goes through <see cref="WriteBatchAsync"/>.</summary>
    /// <returns>A sink of batches that shares this sink's connection and lifecycle.</returns>
    public ISink<IReadOnlyList<T>> AsBatchSink() => new RedisStreamBatchSink<T>(this);
}
