using Microsoft.Extensions.Logging;

namespace Pipeline;

/// <summary>
/// One running instance of a pipeline: lets the caller wait until it is ready, ask it to stop, abort it, and read its result.
/// Stopping within a deadline is in <c>PipelineRun.Shutdown.cs</c>.
/// </summary>
public sealed partial class PipelineRun
{
    private readonly PipelineLifecycle _lifecycle;
    private readonly IReadOnlyList<StageRunner> _stages;
    private readonly IReadOnlyList<object> _ownedStages;
    private readonly System.Diagnostics.Activity? _activity;
    private readonly TaskCompletionSource<PipelineResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Exception> _disposalErrors = [];

    /// <summary>0 until the run's stage objects are being disposed, then 1: they are disposed once, by whichever end comes first.</summary>
    private int _disposing;

    /// <summary>0 until the result is being built, then 1: only the first end of the run builds it.</summary>
    private int _finished;

    internal PipelineRun(PipelineLifecycle lifecycle, IReadOnlyList<StageRunner> stages, IReadOnlyList<object> ownedStages)
    {
        _lifecycle = lifecycle;
        _stages = stages;
        _ownedStages = ownedStages;
        var caller = System.Diagnostics.Activity.Current;
        _activity = PipelineActivity.StartRun(lifecycle.PipelineName);
        // Made even at a ratio of 0, which a configuration reload may raise while the run goes on.
        lifecycle.Sampler = new ItemSampler(lifecycle.SampleRatio, _activity?.Context ?? default);

        // Sink first: each stage waits for the one downstream before running its start hook anyway, but starting the sink
        // first keeps the order visible in traces and logs.
        for (var index = stages.Count - 1; index >= 0; index--)
        {
            stages[index].Start();
        }

        // The stages' tasks carry the run's activity; the caller's own activity is left as it was.
        System.Diagnostics.Activity.Current = caller;
        Ready = WaitReadyAsync();
        _ = CompleteAsync();
    }

    /// <summary>Gets the pipeline's name.</summary>
    public string PipelineName => _lifecycle.PipelineName;

    /// <summary>Gets a task that completes once every stage has started and the source produces, or once the run has halted before that.</summary>
    public Task Ready { get; }

    /// <summary>
    /// Gets a task that completes with the run's result once every stage has completed, or once a shutdown deadline has given up
    /// everything that stage code still held. It never faults: a stage's fault is in the result, and errors while disposing the
    /// run's stage objects are logged and listed in <see cref="PipelineResult.DisposalErrors"/>.
    /// </summary>
    public Task<PipelineResult> Completion => _completion.Task;

    /// <summary>Gets whether the run was asked to stop (or faulted, or was aborted).</summary>
    public bool IsStopRequested => _lifecycle.IsStopRequested;

    /// <summary>Completes when the run is asked to stop (or faults, or is aborted): <see cref="IsStopRequested"/> as a signal, for tests.</summary>
    internal ValueTask WaitStopRequestedAsync(CancellationToken cancellationToken = default) => _lifecycle.StopRequested.WaitAsync(cancellationToken);

    /// <summary>The stage runners, source first (for diagnostics and tests).</summary>
    internal IReadOnlyList<StageRunner> Stages => _stages;

    /// <summary>Asks the pipeline to stop: the source asks for no further item, and every stage drains what is in flight.</summary>
    public void RequestStop() => _lifecycle.RequestStop();

    /// <summary>Aborts the run: stage code sees its cancellation token cancelled and what is left in the handoffs is discarded (and counted as dropped).</summary>
    public void Abort() => _lifecycle.Abort();

    /// <summary>Returns every stage's statistics now (while running, a consistent total is reached only once the run completes).</summary>
    /// <returns>The statistics, source first.</returns>
    public IReadOnlyList<StageStatistics> GetStatistics() =>
        _stages.Select(stage => stage.Counters.Snapshot(stage.Name, stage.InputDepth ?? 0, stage.Options.Parallelism)).ToArray();

    private async Task WaitReadyAsync()
    {
        await _lifecycle.WaitReadyAsync(_stages[0]).ConfigureAwait(false);
    }

    private async Task CompleteAsync()
    {
        try
        {
            foreach (var stage in _stages)
            {
                // A stage's task does not fault: its errors are reported to the lifecycle.
                await stage.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            // Items the deadline's take-over is still giving up belong to this run's result. (A take-over that starts after
            // every stage ended finds nothing left to give up.)
            await _takeOverWork.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await AcknowledgeFinallyAsync(Timeout.InfiniteTimeSpan).ConfigureAwait(false);
            await DisposeOwnedAsync().ConfigureAwait(false);
            Finish(ended: true);
        }
        catch (Exception exception)
        {
            // Never expected; still, Completion must complete.
            lock (_disposalErrors)
            {
                _disposalErrors.Add(exception);
            }

            Finish(ended: true);
        }
    }

    /// <summary>Disposes the stage objects created for this run, once; errors are logged and kept for the result.</summary>
    private async Task DisposeOwnedAsync()
    {
        if (Interlocked.Exchange(ref _disposing, 1) != 0)
        {
            return;
        }

        foreach (var owned in _ownedStages)
        {
            try
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
            catch (Exception exception)
            {
                _lifecycle.Logger.DisposeFailed(PipelineName, owned.GetType().Name, exception);
                lock (_disposalErrors)
                {
                    _disposalErrors.Add(exception);
                }
            }
        }
    }

    /// <summary>Builds the result, logs it and completes <see cref="Completion"/>; only the first call counts.</summary>
    /// <param name="ended">Whether every stage has settled (the result's identities are checked as for an ended run).</param>
    /// <param name="statistics">The statistics to report; <see langword="null"/> to take them now.</param>
    private void Finish(bool ended, IReadOnlyList<StageStatistics>? statistics = null)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        var status = _lifecycle.Fault is not null ? PipelineStatus.Faulted
            : _lifecycle.IsAborted ? PipelineStatus.Aborted
            : _lifecycle.IsSourceExhausted ? PipelineStatus.Completed
            : PipelineStatus.Stopped;
        Exception[] disposalErrors;
        lock (_disposalErrors)
        {
            disposalErrors = [.. _disposalErrors];
        }

        var result = new PipelineResult(
            PipelineName, status, _lifecycle.Fault, _lifecycle.FaultedStage?.Name, statistics ?? GetStatistics(), _stages.All(stage => stage.IsOneToOne), disposalErrors, ended);
        try
        {
            Report(result);
            PipelineActivity.Stop(_activity, result);
        }
        finally
        {
            // Reported first, so that whoever awaits the result finds it logged.
            _completion.TrySetResult(result);
        }
    }

    private void Report(PipelineResult result)
    {
        var logger = _lifecycle.Logger;
        foreach (var stage in result.Stages)
        {
            if (stage.Abandoned > 0)
            {
                logger.ItemsAbandoned(PipelineName, stage.StageName, stage.Abandoned);
            }
        }

        if (!result.IsAccounted)
        {
            logger.AccountingMismatch(PipelineName, string.Join("; ", result.DescribeAccountingErrors()));
        }

        if (result.Status == PipelineStatus.Stopped)
        {
            logger.RunPartial(PipelineName, result.ItemsRead);
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.PipelineEnded(PipelineName, result.Status, string.Join("; ", result.Stages));
            logger.Bottleneck(PipelineName, result.Bottleneck.Text);
        }
    }
}
