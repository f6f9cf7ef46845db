using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pipeline;

/// <summary>
/// Runs one pipeline inside a host: starts it with the host (returning once every stage is ready), drains it when the host stops
/// (aborting what has not drained by the host's shutdown timeout), and stops the application if the pipeline faults.
/// </summary>
public sealed class PipelineHostedService : IHostedService
{
    /// <summary>How long an aborted run may take to end before the host stops waiting for it.</summary>
    private static readonly TimeSpan s_abortGracePeriod = TimeSpan.FromSeconds(5);

    private readonly PipelineDefinition _definition;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<PipelineResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PipelineRun? _run;

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

    /// <summary>Reads and validates the pipeline's configuration, starts the run and waits until every stage is ready.</summary>
    /// <param name="cancellationToken">Cancelled when the host's start is aborted.</param>
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
        _ = ObserveAsync(run);
        await Task.WhenAny(run.Ready, run.Completion).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks the pipeline to stop and waits for it to drain; aborts it when <paramref name="cancellationToken"/> (the host's shutdown timeout) fires first.</summary>
    /// <param name="cancellationToken">Cancelled when the host's shutdown timeout has passed.</param>
    /// <returns>A task that completes when the pipeline has ended.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_run is not { } run)
        {
            return;
        }

        var stopping = run.StopAsync(cancellationToken);
        await Task.WhenAny(stopping, Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken)).ConfigureAwait(false);
        if (!stopping.IsCompleted)
        {
            // The shutdown timeout has passed and the run was aborted; stage code that ignores its token must not hold the host.
            await Task.WhenAny(stopping, Task.Delay(s_abortGracePeriod, CancellationToken.None)).ConfigureAwait(false);
            if (!stopping.IsCompleted)
            {
                _logger.StopAbandoned(PipelineName, s_abortGracePeriod);
            }
        }
    }

    private async Task ObserveAsync(PipelineRun run)
    {
        var result = await run.Completion.ConfigureAwait(false);
        if (result.Status == PipelineStatus.Faulted)
        {
            _logger.PipelineFaulted(result.PipelineName, result.FaultedStage, result.Exception);
            _services.GetService<IHostApplicationLifetime>()?.StopApplication();
        }

        _completion.TrySetResult(result);
    }
}
