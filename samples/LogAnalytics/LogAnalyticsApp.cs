using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline;
using StackExchange.Redis;

namespace LogAnalytics;

/// <summary>
/// The application: a worker service whose content root is the application's base directory (so <c>appsettings.json</c> is found
/// from any working directory), running the pipeline <c>access-logs</c> — read → parse → enrich → batch → encode → store — until the input
/// is read (or, in follow mode, until stopped), then printing the report. With <c>Role=producer</c> or <c>Role=consumer</c> the
/// pipeline is split in two across processes at a Redis stream (see <see cref="ProcessRole"/>).
/// </summary>
public static partial class LogAnalyticsApp
{
    /// <summary>The pipeline's name, the key of its section under <c>Pipelines</c>.</summary>
    public const string PipelineName = "access-logs";

    /// <summary>Exit code of a run that ended faulted.</summary>
    public const int FaultedExitCode = 1;

    /// <summary>Exit code of a run that could not start (bad settings, missing input).</summary>
    public const int StartFailedExitCode = 2;

    /// <summary>Exit code of a run aborted at the shutdown deadline: lines it had not stored are read again by the next run.</summary>
    public const int AbortedExitCode = PipelineHostedService.AbortedExitCode;

    /// <summary>How often a progress line is printed while the pipeline runs, unless <c>Pipelines:access-logs:Progress:Interval</c> says otherwise.</summary>
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(5);

    /// <summary>The command-line switch that replays the dead-letter file through the pipeline instead of reading the input.</summary>
    public const string ReplayDeadLettersSwitch = "--replay-dead-letters";

    /// <summary>Builds the host: settings, the store stage and the pipeline.</summary>
    /// <param name="args">Command-line arguments; configuration keys as <c>--Key=value</c>, and <see cref="ReplayDeadLettersSwitch"/>.</param>
    /// <returns>The builder, ready to <c>Build()</c>.</returns>
    /// <exception cref="InvalidOperationException">Thrown when a sample setting is invalid; the message names the key.</exception>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        CommandLine.Check(args);
        var replay = IsReplay(args);
        var configurationArgs = args.Where(arg => !string.Equals(arg, ReplayDeadLettersSwitch, StringComparison.OrdinalIgnoreCase)).ToArray();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = configurationArgs, ContentRootPath = AppContext.BaseDirectory });
        var baseDirectory = builder.Environment.ContentRootPath;
        var settings = LogAnalyticsSettings.Read(builder.Configuration, baseDirectory);

        // The dead-letter file is relative to the base directory too, not to wherever the command was run; by default it lies beside
        // the database, so each database has its own (and a replay puts its lines back into the database they failed for).
        var deadLetterPath = builder.Configuration[DeadLetterPathKey] is { Length: > 0 } configuredDeadLetterPath
            ? Path.GetFullPath(configuredDeadLetterPath, baseDirectory)
            : DefaultDeadLetterPath(settings.StorePath);
        builder.Configuration[DeadLetterPathKey] = deadLetterPath;

        builder.Services.AddSingleton(settings);
        switch (settings.Role)
        {
            case ProcessRole.Producer when replay:
            case ProcessRole.Consumer when replay:
                throw new InvalidOperationException($"{ReplayDeadLettersSwitch} runs with Role=all (it stores the lines it replays), was Role={settings.Role.ToString().ToLowerInvariant()}");
            case ProcessRole.Producer:
                AddProducerStages(builder, settings);
                break;
            case ProcessRole.Consumer:
                AddConsumerStages(builder, settings, deadLetterPath);
                break;
            default:
                AddAllStages(builder, settings, replay, deadLetterPath);
                break;
        }

        return builder;
    }

    /// <summary>The configuration key of the dead-letter file: <c>Pipelines:access-logs:DeadLetter:Path</c>.</summary>
    public static string DeadLetterPathKey => $"{PipelineOptions.SectionName}:{PipelineName}:DeadLetter:Path";

    /// <summary>
    /// Gets the dead-letter file used when <see cref="DeadLetterPathKey"/> is not set: <c>dead-letters/&lt;database name&gt;.jsonl</c>
    /// in the database's folder (for the default database, <c>data/dead-letters/access-logs.jsonl</c> under the base directory).
    /// </summary>
    /// <param name="storePath">The database (<c>Store:Path</c>), full path.</param>
    /// <returns>The full path.</returns>
    public static string DefaultDeadLetterPath(string storePath)
    {
        ArgumentNullException.ThrowIfNull(storePath);
        var directory = Path.GetDirectoryName(Path.GetFullPath(storePath)) ?? string.Empty;
        return Path.Combine(directory, "dead-letters", Path.GetFileNameWithoutExtension(storePath) + ".jsonl");
    }

    /// <summary>Gets whether <paramref name="args"/> ask for a replay of the dead-letter file.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns><see langword="true"/> when <see cref="ReplayDeadLettersSwitch"/> is among them.</returns>
    public static bool IsReplay(IEnumerable<string> args) => args.Contains(ReplayDeadLettersSwitch, StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds the read stage, named <c>read</c>: the engine acknowledges to it what the pipeline has accounted for.</summary>
    private static PipelineBuilder<LogLine> AddReadStage(PipelineBuilder pipeline, IAcknowledgingSource<LogLine> source) =>
        pipeline.From("read", source);

    /// <summary>Gets the default input: <c>data/access.log</c> under <paramref name="baseDirectory"/>.</summary>
    /// <param name="baseDirectory">The application's base directory.</param>
    /// <returns>The full path.</returns>
    public static string DefaultInputPath(string baseDirectory) => Path.GetFullPath(Path.Combine(LogAnalyticsSettings.DataFolder, "access.log"), baseDirectory);

    /// <summary>Runs the application: generates the default log when no input is given and it is missing, runs the pipeline,
    /// prints progress and the report to <paramref name="output"/>.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="output">Where progress and the report go.</param>
    /// <param name="cancellationToken">Stops the run early (as Ctrl+C does): the pipeline drains and the report says it is partial.</param>
    /// <returns>The exit code (0, <see cref="FaultedExitCode"/>, <see cref="StartFailedExitCode"/> or <see cref="AbortedExitCode"/>) and the report, when there is one.</returns>
    public static async Task<(int ExitCode, TrafficReport? Report)> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        if (CommandLine.IsHelp(args))
        {
            await output.WriteLineAsync(CommandLine.Usage).ConfigureAwait(false);
            return (0, null);
        }

        var startedAt = DateTimeOffset.UtcNow;

        // Progress, a stop's notice and the report may be written from different threads.
        output = TextWriter.Synchronized(output);
        HostApplicationBuilder builder;
        try
        {
            builder = CreateBuilder(args);
        }
        catch (InvalidOperationException exception)
        {
            await Console.Error.WriteLineAsync(exception.Message).ConfigureAwait(false);
            return (StartFailedExitCode, null);
        }
        catch (InvalidDataException exception)
        {
            // A settings file that is not valid JSON: the message names the file, the innermost one the line and position.
            var cause = exception.InnerException;
            while (cause?.InnerException is not null)
            {
                cause = cause.InnerException;
            }

            await Console.Error.WriteLineAsync($"{exception.Message} {cause?.Message}".TrimEnd()).ConfigureAwait(false);
            return (StartFailedExitCode, null);
        }

        var settings = LogAnalyticsSettings.Read(builder.Configuration, builder.Environment.ContentRootPath);
        var replay = IsReplay(args);
        if (!await PrepareInputAsync(builder, settings, replay, output).ConfigureAwait(false))
        {
            return (StartFailedExitCode, null);
        }

        IConnectionMultiplexer? redis = null;
        try
        {
            if (settings.Role != ProcessRole.All)
            {
                redis = await ConnectAsync(builder.Configuration[LogAnalyticsSettings.RedisConnectionStringKey]!).ConfigureAwait(false);
                if (redis is null)
                {
                    return (StartFailedExitCode, null);
                }
            }

            return await RunHostAsync(builder, settings, replay, redis, output, startedAt, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (redis is not null)
            {
                await redis.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Says that the run resumes from a checkpoint, when the read stage has one (not for a replay or a consumer).</summary>
    private static async Task AnnounceResumeAsync(HostApplicationBuilder builder, LogAnalyticsSettings settings, bool replay, TextWriter output)
    {
        if (replay || settings.Role == ProcessRole.Consumer)
        {
            return;
        }

        var inputPath = settings.InputPath ?? DefaultInputPath(builder.Environment.ContentRootPath);
        var checkpointPath = settings.ResolveCheckpointPath(inputPath);
        if (File.Exists(checkpointPath))
        {
            await output.WriteLineAsync(
                $"Resuming {inputPath} from its checkpoint {checkpointPath}: lines already accounted for are not read again, unless the file no longer starts as it did (delete the checkpoint to read the whole input)")
                .ConfigureAwait(false);
        }
    }

    /// <summary>Connects to the Redis server of a producer or consumer; <see langword="null"/> (the reason on the standard error) when it cannot.</summary>
    private static async Task<IConnectionMultiplexer?> ConnectAsync(string connectionString)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException exception)
        {
            await Console.Error.WriteLineAsync($"{LogAnalyticsSettings.RedisConnectionStringKey} is not a valid Redis connection string: {exception.Message}").ConfigureAwait(false);
            return null;
        }

        try
        {
            return await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            // The endpoints only: the connection string may hold a password.
            await Console.Error.WriteLineAsync(
                $"Cannot reach Redis at {string.Join(", ", options.EndPoints.Select(endPoint => endPoint is DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : endPoint.ToString()))} ({LogAnalyticsSettings.RedisConnectionStringKey}); is redis-server running?")
                .ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Runs the host until the pipeline ends (or the consumer is done, or it is stopped), then prints the role's report.</summary>
    private static async Task<(int ExitCode, TrafficReport? Report)> RunHostAsync(
        HostApplicationBuilder builder, LogAnalyticsSettings settings, bool replay, IConnectionMultiplexer? redis, TextWriter output, DateTimeOffset startedAt,
        CancellationToken cancellationToken)
    {
        using var host = builder.Build();
        var service = host.Services.GetPipeline(PipelineName);
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var endOfInput = redis is null ? null : new EndOfInput(redis, settings.RedisStream ?? string.Empty);
        if (settings.Role == ProcessRole.Producer)
        {
            await endOfInput!.ClearAsync().ConfigureAwait(false);
        }

        var elapsed = Stopwatch.StartNew();
        string? finishedRun = null;
        var startCancelled = false;
        try
        {
            // Validated before the host starts, which would log the failure with its stack trace before this message.
            host.Services.GetService<IStartupValidator>()?.Validate();

            // A consumer writes its dead letters to a file of its own (its store is registered in the container).
            var deadLetterPath = (host.Services.GetService<IDeadLetterStore>() as CountingDeadLetterStore)?.Path ?? builder.Configuration[DeadLetterPathKey];
            var deadLetterPathIsDefault = string.Equals(builder.Configuration[DeadLetterPathKey], DefaultDeadLetterPath(settings.StorePath), StringComparison.Ordinal);
            if (!await CheckOutputsAsync(settings, deadLetterPath, deadLetterPathIsDefault).ConfigureAwait(false))
            {
                return (StartFailedExitCode, null);
            }

            await AnnounceResumeAsync(builder, settings, replay, output).ConfigureAwait(false);
            finishedRun = await FindFinishedRunAsync(settings, endOfInput, startedAt, output).ConfigureAwait(false);
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            // Stopped (SIGTERM, Ctrl+C, the caller's token) while the host was starting. A pipeline that had begun stops its run itself:
            // its report follows once it has drained; one that had not read nothing.
            if (service.Run is null)
            {
                await output.WriteLineAsync("stopped before the pipeline started: nothing was read").ConfigureAwait(false);
                return (0, null);
            }

            startCancelled = true;
        }
        catch (OptionsValidationException exception)
        {
            await Console.Error.WriteLineAsync(exception.Message).ConfigureAwait(false);
            return (StartFailedExitCode, null);
        }
        catch (AggregateException exception) when (exception.InnerExceptions.All(inner => inner is OptionsValidationException))
        {
            foreach (var inner in exception.InnerExceptions)
            {
                await Console.Error.WriteLineAsync(inner.Message).ConfigureAwait(false);
            }

            return (StartFailedExitCode, null);
        }

        _ = service.Completion.ContinueWith(_ => lifetime.StopApplication(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        // Stopped from outside (Ctrl+C, SIGTERM, the caller's token) before the input's end: say so at once, since draining and the
        // report's queries take a while on a large database.
        var stopAnnounced = 0;
        void AnnounceStop()
        {
            if (!service.Completion.IsCompleted && Interlocked.Exchange(ref stopAnnounced, 1) == 0)
            {
                output.WriteLine("stopping: finishing the lines in flight, then the report (lines not stored are read again by the next run)");
            }
        }

        using var stopByCaller = cancellationToken.Register(AnnounceStop);
        using var stopBySigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => AnnounceStop());
        using var stopBySigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => AnnounceStop());
        var consumerDone = settings.Role == ProcessRole.Consumer && settings.ExitWhenDone
            ? StopWhenDoneAsync(endOfInput!, settings.RedisGroup ?? string.Empty, finishedRun, lifetime)
            : Task.FromResult(false);
        var progress = PrintProgressAsync(host.Services, settings, service, output, elapsed, GetProgressInterval(builder.Configuration[$"{PipelineOptions.SectionName}:{PipelineName}:Progress:Interval"]), lifetime.ApplicationStopping);
        if (startCancelled)
        {
            AnnounceStop();
        }
        else
        {
            await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }

        var result = await service.Completion.ConfigureAwait(false);
        elapsed.Stop();
        await progress.ConfigureAwait(false);
        var exitCode = result.Status switch
        {
            PipelineStatus.Faulted => FaultedExitCode,
            PipelineStatus.Aborted => AbortedExitCode,
            _ => 0,
        };
        if (host.Services.GetService<IDeadLetterStore>() is CountingDeadLetterStore consumerDeadLetters)
        {
            // Registered as an instance, so the container does not dispose it: close the file here.
            await consumerDeadLetters.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            switch (settings.Role)
            {
                case ProcessRole.Producer:
                    var appended = host.Services.GetRequiredService<StreamPublisher>().Appended;
                    var marked = result.Status == PipelineStatus.Completed && !settings.Follow;
                    if (marked)
                    {
                        await endOfInput!.SetAsync(appended).ConfigureAwait(false);
                    }

                    await output.WriteAsync(ProducerSummary(settings, result, appended, elapsed.Elapsed, marked ? endOfInput!.Key : null, host.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()[DeadLetterPathKey])).ConfigureAwait(false);
                    return (exitCode, null);
                case ProcessRole.Consumer:
                    var consumerReport = ConsumerReport(host.Services, settings, result, await consumerDone.ConfigureAwait(false));
                    await output.WriteAsync(consumerReport.ToString()).ConfigureAwait(false);
                    return (exitCode, consumerReport);
                default:
                    var report = AllReport(host.Services, settings, result, elapsed.Elapsed, replay);
                    await output.WriteAsync(report.ToString()).ConfigureAwait(false);
                    return (exitCode, report);
            }
        }
        catch (Exception exception) when (exception is SqliteException or RedisException or TimeoutException or IOException)
        {
            // The run's store or stream cannot be read for the report (the database is not one, or the server is gone): say so and
            // exit non-zero rather than crash, whatever the run's own status.
            await Console.Error.WriteLineAsync($"The report could not be made: {exception.Message}").ConfigureAwait(false);
            return (exitCode != 0 ? exitCode : FaultedExitCode, null);
        }
    }

    /// <summary>Stops the application once the producer is done and the group has acknowledged every entry; returns whether it did.</summary>
    private static async Task<bool> StopWhenDoneAsync(EndOfInput endOfInput, string group, string? finishedRun, IHostApplicationLifetime lifetime)
    {
        try
        {
            await endOfInput.WaitUntilDoneAsync(group, finishedRun, lifetime.ApplicationStopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped first (Ctrl+C, SIGTERM or a fault).
            return false;
        }

        lifetime.StopApplication();
        return true;
    }
}
