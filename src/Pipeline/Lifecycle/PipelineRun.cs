namespace Pipeline;

/// <summary>
/// One running instance of a pipeline: lets the caller wait until it is ready, ask it to stop, abort it, and read its result.
/// </summary>
public sealed class PipelineRun
{
    private readonly PipelineLifecycle _lifecycle;
    private readonly IReadOnlyList<StageRunner> _stages;

    internal PipelineRun(PipelineLifecycle lifecycle, IReadOnlyList<StageRunner> stages, IReadOnlyList<object> ownedStages)
    {
        _lifecycle = lifecycle;
        _stages = stages;
        var caller = System.Diagnostics.Activity.Current;
        var activity = PipelineActivity.StartRun(lifecycle.PipelineName);

        // Sink first: each stage waits for the one downstream before running its start hook anyway, but starting the sink
        // first keeps the order visible in traces and logs.
        for (var index = stages.Count - 1; index >= 0; index--)
        {
            stages[index].Start();
        }

        // The stages' tasks carry the run's activity; the caller's own activity is left as it was.
        System.Diagnostics.Activity.Current = caller;
        Ready = WaitReadyAsync();
        Completion = CompleteAsync(ownedStages, activity);
    }

    /// <summary>Gets the pipeline's name.</summary>
    public string PipelineName => _lifecycle.PipelineName;

    /// <summary>Gets a task that completes once every stage has started and the source produces, or once the run has halted before that.</summary>
    public Task Ready { get; }

    /// <summary>Gets a task that completes with the run's result once every stage has completed. It never faults: a fault is in the result.</summary>
    public Task<PipelineResult> Completion { get; }

    /// <summary>Gets whether the run was asked to stop (or faulted, or was aborted).</summary>
    public bool IsStopRequested => _lifecycle.IsStopRequested;

    /// <summary>Asks the pipeline to stop: the source asks for no further item, and every stage drains what is in flight.</summary>
    public void RequestStop() => _lifecycle.RequestStop();

    /// <summary>Aborts the run: stage code sees its cancellation token cancelled and what is left in the handoffs is discarded (and counted as dropped).</summary>
    public void Abort() => _lifecycle.Abort();

    /// <summary>Asks the pipeline to stop and waits for it to drain; aborts if <paramref name="cancellationToken"/> is cancelled first.</summary>
    /// <param name="cancellationToken">Cancelled when waiting for the drain should end (for a host, at its shutdown timeout).</param>
    /// <returns>The run's result.</returns>
    public async Task<PipelineResult> StopAsync(CancellationToken cancellationToken = default)
    {
        RequestStop();
        try
        {
            return await Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _lifecycle.Logger.DrainTimedOut(PipelineName);
            Abort();
            return await Completion.ConfigureAwait(false);
        }
    }

    /// <summary>Returns every stage's statistics now (while running, a consistent total is reached only once the run completes).</summary>
    /// <returns>The statistics, source first.</returns>
    public IReadOnlyList<StageStatistics> GetStatistics() => _stages.Select(stage => stage.Counters.Snapshot(stage.Name)).ToArray();

    /// <summary>The stage runners, source first (for diagnostics and tests).</summary>
    internal IReadOnlyList<StageRunner> Stages => _stages;

    private async Task WaitReadyAsync()
    {
        await _lifecycle.WaitReadyAsync(_stages[0]).ConfigureAwait(false);
    }

    private async Task<PipelineResult> CompleteAsync(IReadOnlyList<object> ownedStages, System.Diagnostics.Activity? activity)
    {
        foreach (var stage in _stages)
        {
            // A stage's task does not fault: its errors are reported to the lifecycle.
            await stage.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var owned in ownedStages)
        {
            if (owned is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (owned is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }

        var status = _lifecycle.Fault is not null ? PipelineStatus.Faulted
            : _lifecycle.IsAborted ? PipelineStatus.Aborted
            : _lifecycle.IsSourceExhausted ? PipelineStatus.Completed
            : PipelineStatus.Stopped;
        var result = new PipelineResult(PipelineName, status, _lifecycle.Fault, _lifecycle.FaultedStage?.Name, GetStatistics());
        PipelineActivity.Stop(activity, result);
        if (_lifecycle.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information))
        {
            _lifecycle.Logger.PipelineEnded(PipelineName, status, string.Join("; ", result.Stages));
        }
        return result;
    }
}
