using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Pipeline;

/// <summary>
/// Runs one pipeline inside a host: starts it with the host (returning once every stage is ready), begins draining it as soon as
/// the host begins stopping (<see cref="StoppingAsync"/>, so that several pipelines drain together), returns from
/// <see cref="StopAsync"/> within the host's <see cref="HostOptions.ShutdownTimeout"/> (aborting early enough to persist what did
/// not drain, see <see cref="PipelineRun.StopWithinAsync"/>), and stops the application if the pipeline faults.
/// </summary>
/// <remarks>
/// A faulted pipeline sets <see cref="Environment.ExitCode"/> to 1, and one aborted at the shutdown deadline to 3 (unless something
/// already set a non-zero code), so a process that ends with <c>await host.RunAsync()</c> exits non-zero and systemd, Kubernetes
/// or a CI job sees that the work was not finished.
/// </remarks>
public sealed class PipelineHostedService : IHostedLifecycleService
{
    /// <summary>The exit code a faulted pipeline sets.</summary>
    public const int FaultedExitCode = 1;

    /// <summary>
    /// The exit code a pipeline sets when it did not drain within the host's shutdown timeout and was aborted: items it had not
    /// delivered were dead-lettered (reason <c>ShutdownTimeout</c>) or abandoned, so the run did not finish its work.
    /// </summary>
    public const int AbortedExitCode = 3;

    private readonly PipelineDefinition _definition;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<PipelineResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PipelineRun? _run;

    /// <summary>Follows configuration reloads while the run goes on; disposed when it ends.</summary>
    private IDisposable? _reloads;

    /// <summary>The keys last reported as needing a restart, so that a reload firing twice for one change logs once.</summary>
    private string _needRestartReported = string.Empty;

    /// <summary>When the host began stopping (a <see cref="Stopwatch"/> timestamp); 0 until then.</summary>
    private long _stoppingSince;

    internal PipelineHostedService(PipelineDefinition definition, IServiceProvider services)
    {
        _definition = definition;
        _services = services;
        _logger = (services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Pipeline");
    }

    /// <summary>Gets the pipeline's name.</summary>
    public string PipelineName => _definition.Name;

    /// <summary>Gets a task that completes with the result of the pipeline's run once it ends.</summary>
    public Task<PipelineResult> Completion => _completion.Task;

    /// <summary>Gets the current run; <see langword="null"/> before <see cref="StartAsync"/>.</summary>
    public PipelineRun? Run => _run;

    /// <summary>Does nothing: the pipeline starts in <see cref="StartAsync"/>.</summary>
    /// <param name="cancellationToken">Not used.</param>
    /// <returns>A completed task.</returns>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Reads and validates the pipeline's configuration, starts the run and waits until every stage is ready.</summary>
    /// <param name="cancellationToken">Cancelled when the host's start is aborted; the run is then stopped (and aborted if it has not drained by the host's shutdown timeout).</param>
    /// <returns>A task that completes when the pipeline runs (or has already ended).</returns>
    /// <exception cref="OptionsValidationException">Thrown when <c>Pipelines:{name}</c> is invalid.</exception>
    /// <exception cref="InvalidOperationException">Thrown when a stage class cannot be resolved.</exception>
    /// <exception cref="OperationCanceledException">Thrown when <paramref name="cancellationToken"/> is cancelled before the pipeline is ready.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configuration = _services.GetRequiredService<IOptionsMonitor<PipelineOptions>>().Get(_definition.Name);
        var pipeline = new DataPipeline(
            _definition,
            configuration,
            _services,
            _services.GetService<TimeProvider>() ?? TimeProvider.System,
            _services.GetService<ILoggerFactory>());
        var run = pipeline.Start();
        _run = run;
        if (_services.GetService<IConfiguration>() is { } source)
        {
            _reloads = ChangeToken.OnChange(source.GetReloadToken, OnConfigurationReloaded);
        }

        _ = ObserveAsync(run);
        try
        {
            await Task.WhenAny(run.Ready, run.Completion).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host will not call StopAsync for a service whose start was cancelled: the run must not go on alone.
            _ = run.StopWithinAsync(ShutdownTimeout, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Does nothing: the pipeline is ready once <see cref="StartAsync"/> returns.</summary>
    /// <param name="cancellationToken">Not used.</param>
    /// <returns>A completed task.</returns>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Asks the pipeline to stop as soon as the host begins stopping, before any service's <see cref="StopAsync"/> runs.</summary>
    /// <param name="cancellationToken">Not used: asking to stop does not wait.</param>
    /// <returns>A completed task.</returns>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        Interlocked.CompareExchange(ref _stoppingSince, Stopwatch.GetTimestamp(), 0);
        _run?.RequestStop();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Waits for the pipeline to drain, and returns within the host's <see cref="HostOptions.ShutdownTimeout"/> counted from when
    /// the host began stopping: shortly before it, the run is aborted and every item not delivered goes to the dead-letter store
    /// (reason <c>ShutdownTimeout</c>) or is counted abandoned. If <paramref name="cancellationToken"/> fires first, that happens at once.
    /// </summary>
    /// <param name="cancellationToken">Cancelled when the host's shutdown timeout has passed.</param>
    /// <returns>A task that completes when the pipeline has ended or been given up, and its exit code is set.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_run is not { } run)
        {
            return;
        }

        Interlocked.CompareExchange(ref _stoppingSince, Stopwatch.GetTimestamp(), 0);
        var remaining = ShutdownTimeout - Stopwatch.GetElapsedTime(Interlocked.Read(ref _stoppingSince));
        await run.StopWithinAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);

        // The exit code is set, and a fault logged, by the run's observer, a continuation of the run's completion that may not
        // have run yet: the host can end the process as soon as this returns (await host.RunAsync(), then Main returns).
        await _completion.Task.ConfigureAwait(false);
    }

    /// <summary>Does nothing: the pipeline has ended once <see cref="StopAsync"/> returns.</summary>
    /// <param name="cancellationToken">Not used.</param>
    /// <returns>A completed task.</returns>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private TimeSpan ShutdownTimeout => _services.GetService<IOptions<HostOptions>>()?.Value.ShutdownTimeout ?? TimeSpan.FromSeconds(30);

    /// <summary>
    /// Reads the pipeline's configuration again (binding and validation as at start, through <see cref="IOptionsFactory{TOptions}"/>)
    /// and puts in force what a running pipeline can change (<see cref="PipelineRun.ApplySettings"/>). Invalid configuration is
    /// logged and not applied. Not through <see cref="IOptionsMonitor{TOptions}.OnChange"/>: the monitor throws a validation error
    /// on the configuration provider's reload thread, where nothing catches it.
    /// </summary>
    private void OnConfigurationReloaded()
    {
        if (_run is not { Completion.IsCompleted: false } run)
        {
            return;
        }

        lock (_completion)
        {
            PipelineOptions options;
            try
            {
                options = _services.GetRequiredService<IOptionsFactory<PipelineOptions>>().Create(_definition.Name);
            }
            catch (OptionsValidationException exception)
            {
                _logger.SettingsReloadRejected(_definition.Name, string.Join("; ", exception.Failures));
                return;
            }

            var (applied, needRestart) = run.ApplySettings(_definition, options);
            if (applied.Count > 0)
            {
                _logger.SettingsReloaded(_definition.Name, string.Join("; ", applied));
            }

            var keys = string.Join(", ", needRestart);
            if (needRestart.Count > 0 && keys != _needRestartReported)
            {
                _logger.SettingsNeedRestart(_definition.Name, keys);
            }

            _needRestartReported = keys;
        }
    }

    /// <summary>
    /// Once the run ends: sets the exit code, logs a fault and stops the application, then completes <see cref="Completion"/>
    /// (which <see cref="StopAsync"/> waits for), whatever of that throws.
    /// </summary>
    private async Task ObserveAsync(PipelineRun run)
    {
        var result = await run.Completion.ConfigureAwait(false);
        try
        {
            _reloads?.Dispose();
            if (result.Status == PipelineStatus.Faulted)
            {
                if (Environment.ExitCode == 0)
                {
                    Environment.ExitCode = FaultedExitCode;
                }

                _logger.PipelineFaulted(result.PipelineName, result.FaultedStage, result.Exception);
                _services.GetService<IHostApplicationLifetime>()?.StopApplication();
            }
            else if (result.Status == PipelineStatus.Aborted && Environment.ExitCode == 0)
            {
                Environment.ExitCode = AbortedExitCode;
            }
        }
        finally
        {
            _completion.TrySetResult(result);
        }
    }
}
