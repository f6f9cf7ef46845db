using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline;
using Pipeline.Redis;

namespace LogAnalytics;

/// <summary>The stages each <see cref="ProcessRole"/> runs.</summary>
public static partial class LogAnalyticsApp
{
    /// <summary>The stages that run only in a producer.</summary>
    private static readonly string[] s_producerOnlyStages = ["parse", "publish"];

    /// <summary>The stages that run only in a consumer.</summary>
    private static readonly string[] s_consumerOnlyStages = ["enrich", "encode", "store"];

    /// <summary>How long a producer's batch waits to fill before it is appended to the stream anyway.</summary>
    private static readonly TimeSpan s_publishMaxDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Role <c>all</c>: read → parse → enrich → batch → encode → store, in this process.</summary>
    private static void AddAllStages(HostApplicationBuilder builder, LogAnalyticsSettings settings, bool replay, string? deadLetterPath)
    {
        IAcknowledgingSource<LogLine> source;
        if (replay)
        {
            // Items that fail again are appended to the same file, after the lines this replay reads: the next replay takes them.
            // Only lines hold LogLine items (those of read and parse); what later stages gave up because a run stopped is read
            // again from the log by the next run, so their dead letters are passed over.
            source = new DeadLetterSource<LogLine>(
                deadLetterPath ?? throw new InvalidOperationException($"{ReplayDeadLettersSwitch} needs {DeadLetterPathKey}: the dead-letter file to replay"),
                (JsonTypeInfo<LogLine>)JsonSerializerOptions.Default.GetTypeInfo(typeof(LogLine)))
            {
                Stages = ["read", "parse"],
            };
        }
        else
        {
            source = new AccessLogSource(new FileSource(settings.ToFileSourceOptions(settings.InputPath ?? DefaultInputPath(builder.Environment.ContentRootPath))));
        }

        builder.Services.AddSingleton<StoreSink>();
        builder.Services.AddPipeline(PipelineName, pipeline => AddReadStage(pipeline, source)
            .Then("parse", AccessLogParser.Parse)
            .Then("enrich", Enricher.Enrich)
            .Batch("batch", settings.BatchSize, TimeSpan.FromSeconds(1))
            .Then("encode", EncodeBatch)
            .To<StoreSink>("store"));
    }

    /// <summary>
    /// The <c>encode</c> stage: a batch's rows as the store binds them (<see cref="RequestRows"/>), made on another core than the
    /// store's single writer, which then only binds and steps.
    /// </summary>
    private static IReadOnlyList<EnrichedRequest> EncodeBatch(IReadOnlyList<EnrichedRequest> batch) => RequestRows.Encode(batch);

    /// <summary>
    /// Role <c>producer</c>: read → parse → batch → publish (<c>XADD</c> to the stream). The engine acknowledges a line to the read
    /// stage's checkpoint once its request is in the stream, or its malformed line in the dead-letter file.
    /// </summary>
    private static void AddProducerStages(HostApplicationBuilder builder, LogAnalyticsSettings settings)
    {
        var source = new AccessLogSource(new FileSource(settings.ToFileSourceOptions(settings.InputPath ?? DefaultInputPath(builder.Environment.ContentRootPath))));
        var batchSize = builder.Configuration.GetValue($"{PipelineOptions.SectionName}:{PipelineName}:Redis:BatchSize", RedisStreamOptions.DefaultBatchSize);
        builder.Services.AddRedisStreamSink(PipelineName, AccessLogJsonContext.Default.AccessLogEntry);
        builder.Services.AddSingleton<StreamPublisher>();
        builder.Services.AddPipeline(PipelineName, pipeline => AddReadStage(pipeline, source)
            .Then("parse", AccessLogParser.Parse)
            .Batch("batch", Math.Clamp(batchSize, RedisStreamOptions.MinBatchSize, RedisStreamOptions.MaxBatchSize), s_publishMaxDelay)
            .To<StreamPublisher>("publish"));
        UseConfigurationWithout(builder, s_consumerOnlyStages);
    }

    /// <summary>
    /// Role <c>consumer</c>: read (the stream's consumer group) → enrich → batch → encode → store. Dead letters, the Redis source's included, go
    /// to a file of this consumer's own: <c>&lt;DeadLetter:Path without extension&gt;.&lt;consumer&gt;&lt;extension&gt;</c>.
    /// </summary>
    private static void AddConsumerStages(HostApplicationBuilder builder, LogAnalyticsSettings settings, string? deadLetterPath)
    {
        var consumer = builder.Configuration[$"{PipelineOptions.SectionName}:{PipelineName}:Redis:Consumer"] is { Length: > 0 } configured
            ? configured
            : RedisStreamOptions.DefaultConsumer();
        if (deadLetterPath is not null)
        {
            builder.Services.AddSingleton<IDeadLetterStore>(new CountingDeadLetterStore(ConsumerDeadLetterPath(deadLetterPath, consumer)));
        }

        builder.Services.AddRedisStreams(PipelineName, options => options.Consumer = consumer);
        builder.Services.AddRedisStreamSource(PipelineName, AccessLogJsonContext.Default.AccessLogEntry);
        builder.Services.AddSingleton<StreamEntrySource>();
        builder.Services.AddSingleton<StoreSink>();
        builder.Services.AddPipeline(PipelineName, pipeline => pipeline
            .FromAcknowledging<StreamEntrySource, AccessLogEntry>("read")
            .Then("enrich", Enricher.Enrich)
            .Batch("batch", settings.BatchSize, TimeSpan.FromSeconds(1))
            .Then("encode", EncodeBatch)
            .To<StoreSink>("store"));
        UseConfigurationWithout(builder, s_producerOnlyStages);
    }

    /// <summary>Returns a consumer's own dead-letter file: <paramref name="deadLetterPath"/> with <c>.&lt;consumer&gt;</c> before its extension.</summary>
    /// <param name="deadLetterPath">The configured dead-letter file (<c>Pipelines:access-logs:DeadLetter:Path</c>), full path.</param>
    /// <param name="consumer">The consumer's name; characters not allowed in a file name become <c>_</c>.</param>
    /// <returns>The full path.</returns>
    public static string ConsumerDeadLetterPath(string deadLetterPath, string consumer)
    {
        ArgumentNullException.ThrowIfNull(deadLetterPath);
        ArgumentNullException.ThrowIfNull(consumer);
        var invalid = Path.GetInvalidFileNameChars();
        var safeConsumer = new string(consumer.Select(character => invalid.Contains(character) ? '_' : character).ToArray());
        var directory = Path.GetDirectoryName(deadLetterPath) ?? string.Empty;
        return Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(deadLetterPath)}.{safeConsumer}{Path.GetExtension(deadLetterPath)}");
    }

    /// <summary>Gives the services a snapshot of the configuration without the sections of <paramref name="otherRoleStages"/>.</summary>
    private static void UseConfigurationWithout(HostApplicationBuilder builder, IEnumerable<string> otherRoleStages)
    {
        // Registered last, so it is the IConfiguration the pipeline's and the Redis package's options read.
        var configuration = RoleConfiguration.WithoutStages(builder.Configuration, otherRoleStages);
        builder.Services.AddSingleton<IConfiguration>(configuration);
    }

    /// <summary>
    /// For a consumer that ends when done: the end-of-input marker of a run that ended before this process started, found before it
    /// takes any entry (said on <paramref name="output"/>), which it then ignores; <see langword="null"/> for any other process or
    /// when there is none.
    /// </summary>
    private static async Task<string?> FindFinishedRunAsync(LogAnalyticsSettings settings, EndOfInput? endOfInput, DateTimeOffset startedAt, TextWriter output)
    {
        if (settings.Role != ProcessRole.Consumer || !settings.ExitWhenDone || endOfInput is null
            || await endOfInput.FindFinishedRunAsync(settings.RedisGroup ?? string.Empty, startedAt).ConfigureAwait(false) is not { } marker)
        {
            return null;
        }

        await output.WriteLineAsync(
            $"The end-of-input marker at key '{endOfInput.Key}' ({marker}) is a finished run's: the group '{settings.RedisGroup}' has nothing left. "
            + "Waiting for the next producer to mark the end of its input.").ConfigureAwait(false);
        return marker;
    }
}
