using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pipeline;

/// <summary>
/// A pipeline ready to run: built by <see cref="PipelineBuilder.Build"/> for tests and console tools, or by the hosted service that
/// <c>AddPipeline</c> registers. Each run creates its own handoffs and stage instances, so a pipeline can run more than once.
/// </summary>
public sealed class DataPipeline
{
    private readonly PipelineDefinition _definition;
    private readonly PipelineOptions? _configuration;
    private readonly IServiceProvider? _services;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly PipelineMetrics? _metrics;

    internal DataPipeline(PipelineDefinition definition, PipelineOptions? configuration, IServiceProvider? services, TimeProvider timeProvider, ILoggerFactory? loggerFactory)
    {
        _definition = definition;
        _configuration = configuration;
        _services = services;
        _timeProvider = timeProvider;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Pipeline");
        if (services?.GetService<System.Diagnostics.Metrics.IMeterFactory>() is { } meterFactory)
        {
            _metrics = PipelineMetrics.GetOrCreate(meterFactory, definition.Name);
        }
    }

    /// <summary>Gets the pipeline's name.</summary>
    public string Name => _definition.Name;

    /// <summary>Gets the stage names, source first.</summary>
    public IReadOnlyList<string> StageNames => _definition.Stages.Select(stage => stage.Name).ToArray();

    /// <summary>Starts a run and returns at once; the stages start sink first and the source produces once all are ready.</summary>
    /// <returns>The run.</returns>
    /// <exception cref="InvalidOperationException">Thrown when a stage class cannot be resolved.</exception>
    /// <exception cref="NotSupportedException">Thrown when a stage's handoff options are not available for its handoff kind.</exception>
    public PipelineRun Start()
    {
        var lifecycle = new PipelineLifecycle(Name, _logger, _timeProvider)
        {
            Metrics = _metrics,
            SampleRatio = (_configuration?.Tracing ?? _definition.Tracing).SampleRatio,
        };
        var context = new StageRunContext(lifecycle, _services) { Acknowledgement = _configuration?.Acknowledgement ?? _definition.Acknowledgement };
        try
        {
            var stages = _definition.Stages;
            var runners = new StageRunner[stages.Count];
            object? output = null;
            for (var index = stages.Count - 1; index >= 0; index--)
            {
                var options = ResolvedStageOptions.Resolve(stages[index], _definition.Handoff, _configuration);
                runners[index] = stages[index].CreateRunner(context, index, options, output);
                runners[index].Downstream = index + 1 < runners.Length ? runners[index + 1] : null;
                output = stages[index].GetInputWriter(runners[index]);
            }

            lifecycle.Stages = runners;
            lifecycle.DeadLetters = _services?.GetService<IDeadLetterStore>();
            if (lifecycle.DeadLetters is null && _configuration?.DeadLetter.Path is { Length: > 0 } path)
            {
                var store = new JsonLinesDeadLetterStore(_configuration.DeadLetter);
                lifecycle.DeadLetters = store;
                context.Own(store);
            }

            if (lifecycle.DeadLetters is null && runners.FirstOrDefault(runner => runner.Options.OnError == StageErrorMode.DeadLetter) is { } deadLettering)
            {
                throw new InvalidOperationException(
                    $"Stage '{deadLettering.Name}' sends failed items to the dead-letter store, but pipeline '{Name}' has none: set Pipelines:{Name}:DeadLetter:Path or register an IDeadLetterStore.");
            }

            _logger.PipelineStarted(Name);
            var run = new PipelineRun(lifecycle, runners, context.Owned);
            _metrics?.Track(run);
            if (_configuration?.ProgressInterval is { } interval && interval > TimeSpan.Zero)
            {
                run.Progress = ProgressReporter.Start(run, interval, _logger, _timeProvider);
            }

            return run;
        }
        catch
        {
            // Nothing has started: release the scope and the stage objects built so far.
            DisposeBuilt(context.Owned);
            throw;
        }
    }

    /// <summary>Disposes what a failed start built; an object that can only be disposed asynchronously is disposed in the background.</summary>
    private void DisposeBuilt(IReadOnlyList<object> owned)
    {
        foreach (var item in owned)
        {
            try
            {
                switch (item)
                {
                    case IAsyncDisposable asyncDisposable:
                        var pending = asyncDisposable.DisposeAsync();
                        if (!pending.IsCompleted)
                        {
                            _ = ObserveDisposeAsync(pending, item.GetType().Name);
                        }
                        else
                        {
                            pending.GetAwaiter().GetResult();
                        }

                        break;
                    case IDisposable disposable:
                        disposable.Dispose();
                        break;
                }
            }
            catch (Exception exception)
            {
                _logger.DisposeFailed(Name, item.GetType().Name, exception);
            }
        }
    }

    private async Task ObserveDisposeAsync(ValueTask pending, string typeName)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            _logger.DisposeFailed(Name, typeName, exception);
        }
    }

    /// <summary>Runs the pipeline until its source ends, or until <paramref name="stoppingToken"/> asks it to stop and it has drained.</summary>
    /// <param name="stoppingToken">Cancelled to stop gracefully: the source stops and everything in flight is processed.</param>
    /// <returns>The run's result; a fault is reported there, not thrown.</returns>
    /// <exception cref="InvalidOperationException">Thrown when a stage class cannot be resolved.</exception>
    /// <exception cref="NotSupportedException">Thrown when a stage's handoff options are not available for its handoff kind.</exception>
    public async Task<PipelineResult> RunAsync(CancellationToken stoppingToken = default)
    {
        var run = Start();
        using (stoppingToken.Register(static state => ((PipelineRun)state!).RequestStop(), run))
        {
            return await run.Completion.ConfigureAwait(false);
        }
    }
}
