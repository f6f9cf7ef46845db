using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline;

namespace LogAnalytics;

/// <summary>
/// The application: a worker service whose content root is the application's base directory (so <c>appsettings.json</c> is found
/// from any working directory), running the pipeline <c>access-logs</c> — read → parse → enrich → batch → store — until the input
/// is read (or, in follow mode, until stopped), then printing the report.
/// </summary>
public static class LogAnalyticsApp
{
    /// <summary>The pipeline's name, the key of its section under <c>Pipelines</c>.</summary>
    public const string PipelineName = "access-logs";

    /// <summary>Exit code of a run that ended faulted.</summary>
    public const int FaultedExitCode = 1;

    /// <summary>Exit code of a run that could not start (bad settings, missing input).</summary>
    public const int StartFailedExitCode = 2;

    /// <summary>How often a progress line is printed while the pipeline runs.</summary>
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
        var replay = IsReplay(args);
        var configurationArgs = args.Where(arg => !string.Equals(arg, ReplayDeadLettersSwitch, StringComparison.OrdinalIgnoreCase)).ToArray();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = configurationArgs, ContentRootPath = AppContext.BaseDirectory });
        var baseDirectory = builder.Environment.ContentRootPath;
        var settings = LogAnalyticsSettings.Read(builder.Configuration, baseDirectory);

        // The dead-letter file is relative to the base directory too, not to wherever the command was run.
        var deadLetterKey = DeadLetterPathKey;
        string? deadLetterPath = null;
        if (builder.Configuration[deadLetterKey] is { Length: > 0 } configuredDeadLetterPath)
        {
            deadLetterPath = Path.GetFullPath(configuredDeadLetterPath, baseDirectory);
            builder.Configuration[deadLetterKey] = deadLetterPath;
        }

        IAcknowledgingSource<LogLine> source;
        if (replay)
        {
            // Items that fail again are appended to the same file, after the lines this replay reads: the next replay takes them.
            source = new DeadLetterSource<LogLine>(
                deadLetterPath ?? throw new InvalidOperationException($"{ReplayDeadLettersSwitch} needs {deadLetterKey}: the dead-letter file to replay"),
                (JsonTypeInfo<LogLine>)JsonSerializerOptions.Default.GetTypeInfo(typeof(LogLine)));
        }
        else
        {
            source = new AccessLogSource(new FileSource(settings.ToFileSourceOptions(settings.InputPath ?? DefaultInputPath(baseDirectory))));
        }

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<StoreSink>();
        builder.Services.AddPipeline(PipelineName, pipeline => AddReadStage(pipeline, source)
            .Then("parse", AccessLogParser.Parse)
            .Then("enrich", Enricher.Enrich)
            .Batch("batch", settings.BatchSize, TimeSpan.FromSeconds(1))
            .To<StoreSink>("store"));
        return builder;
    }

    /// <summary>The configuration key of the dead-letter file: <c>Pipelines:access-logs:DeadLetter:Path</c>.</summary>
    public static string DeadLetterPathKey => $"{PipelineOptions.SectionName}:{PipelineName}:DeadLetter:Path";

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
    /// <returns>The exit code (0, <see cref="FaultedExitCode"/> or <see cref="StartFailedExitCode"/>) and the report, when there is one.</returns>
    public static async Task<(int ExitCode, TrafficReport? Report)> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
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

        var settings = LogAnalyticsSettings.Read(builder.Configuration, builder.Environment.ContentRootPath);
        var replay = IsReplay(args);
        if (replay)
        {
            var deadLetterPath = builder.Configuration[DeadLetterPathKey]!;
            if (!File.Exists(deadLetterPath))
            {
                await Console.Error.WriteLineAsync($"{ReplayDeadLettersSwitch}: no dead-letter file at '{deadLetterPath}' ({DeadLetterPathKey})").ConfigureAwait(false);
                return (StartFailedExitCode, null);
            }

            await output.WriteLineAsync($"Replaying the dead letters in {deadLetterPath}").ConfigureAwait(false);
        }
        else if (settings.InputPath is null)
        {
            var defaultPath = DefaultInputPath(builder.Environment.ContentRootPath);
            if (!File.Exists(defaultPath))
            {
                await output.WriteLineAsync($"Generating the default log (1,000,000 lines) at {defaultPath} ...").ConfigureAwait(false);
                var watch = Stopwatch.StartNew();
                LogGenerator.EnsureDefault(defaultPath);
                await output.WriteLineAsync($"Generated in {watch.Elapsed.TotalSeconds:N1} s").ConfigureAwait(false);
            }
        }
        else if (!File.Exists(settings.InputPath))
        {
            await Console.Error.WriteLineAsync($"Input:Path '{settings.InputPath}' does not exist").ConfigureAwait(false);
            return (StartFailedExitCode, null);
        }

        using var host = builder.Build();
        var service = host.Services.GetPipeline(PipelineName);
        var sink = host.Services.GetRequiredService<StoreSink>();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var elapsed = Stopwatch.StartNew();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException exception)
        {
            await Console.Error.WriteLineAsync(exception.Message).ConfigureAwait(false);
            return (StartFailedExitCode, null);
        }

        _ = service.Completion.ContinueWith(_ => lifetime.StopApplication(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var progress = PrintProgressAsync(service, sink, output, elapsed, lifetime.ApplicationStopping);
        await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        var result = await service.Completion.ConfigureAwait(false);
        elapsed.Stop();
        await progress.ConfigureAwait(false);

        var read = result.Stages[0].Produced;
        var deadLettered = result.Stages.Sum(stage => stage.DeadLettered);
        var run = new TrafficReport
        {
            Complete = result.Status == PipelineStatus.Completed,
            Replay = replay,
            Outcome = result.Status switch
            {
                PipelineStatus.Completed => "completed",
                PipelineStatus.Stopped => "stopped early",
                PipelineStatus.Faulted => $"faulted in stage '{result.FaultedStage}': {result.Exception?.Message}",
                _ => "aborted",
            },
            Read = read,
            Stored = sink.Inserted,
            AlreadyStored = sink.AlreadyStored,
            DeadLettered = deadLettered,
            Elapsed = elapsed.Elapsed,
            Bottleneck = result.Bottleneck.Text,
        };
        var report = TrafficReport.Query(settings.StorePath, run);
        await output.WriteAsync(report.ToString()).ConfigureAwait(false);
        return (result.Status == PipelineStatus.Faulted ? FaultedExitCode : 0, report);
    }

    private static async Task PrintProgressAsync(PipelineHostedService service, StoreSink sink, TextWriter output, Stopwatch elapsed, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(s_progressInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false) && !service.Completion.IsCompleted)
            {
                if (service.Run is not { } run)
                {
                    continue;
                }

                var statistics = run.GetStatistics();
                var read = statistics[0].Produced;
                await output.WriteLineAsync(
                    $"progress: read {read:N0} lines ({read / elapsed.Elapsed.TotalSeconds:N0}/s), stored {sink.Inserted + sink.AlreadyStored:N0}, dead-lettered {statistics.Sum(s => s.DeadLettered):N0}")
                    .ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The host is stopping: the report follows.
        }
    }
}
