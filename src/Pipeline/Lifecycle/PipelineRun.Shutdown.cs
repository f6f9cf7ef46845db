using System.Diagnostics;

namespace Pipeline;

/// <summary>Stopping a run within a deadline: drain, then abort early enough to persist, then take over what stage code still holds.</summary>
public sealed partial class PipelineRun
{
    /// <summary>How long <see cref="StopAsync(CancellationToken)"/> waits after its token fires before it takes over from stage code.</summary>
    internal static readonly TimeSpan AbortGracePeriod = TimeSpan.FromSeconds(2);

    /// <summary>The longest time kept back from the drain for aborting and persisting what is left.</summary>
    private static readonly TimeSpan s_maxReserve = TimeSpan.FromSeconds(5);

    /// <summary>The shortest time kept back from the drain for aborting and persisting what is left.</summary>
    private static readonly TimeSpan s_minReserve = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the end of a run taken over at its deadline is checked for.</summary>
    private static readonly TimeSpan s_settlePollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>How long past the deadline a result waits for dead-letter writes that were still going on at the deadline.</summary>
    private static readonly TimeSpan s_storeGracePeriod = TimeSpan.FromMilliseconds(500);

    /// <summary>What the take-over at the deadline is still doing (claims and drains); the run's normal end waits for it too.</summary>
    private volatile Task _takeOverWork = Task.CompletedTask;

    /// <summary>0 until the run has been taken over at its deadline, then 1.</summary>
    private int _takenOver;

    /// <summary>Asks the pipeline to stop and waits for it to drain; aborts if <paramref name="cancellationToken"/> is cancelled first.</summary>
    /// <param name="cancellationToken">
    /// Cancelled when waiting for the drain should end (for a host, at its shutdown timeout): the run is then aborted, and what stage
    /// code still holds after a short grace period is given up (reason <c>ShutdownTimeout</c>) so that a result comes even if
    /// stage code ignores its token.
    /// </param>
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
            _lifecycle.AbortForShutdownTimeout();
            return await AbortThenTakeOverAsync(AbortGracePeriod).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks the pipeline to stop and returns its result within <paramref name="timeout"/>: it drains until shortly before the
    /// deadline (a quarter of <paramref name="timeout"/> is kept back, between 250 ms and 5 s but at most half), then aborts (stage code sees its token
    /// cancelled, and what is left in handoffs is discarded), and finally takes over: every item not delivered — in a handoff, in a
    /// partial batch, in stage code's hands, or held by a writer blocked on a full handoff — goes to the dead-letter store with reason
    /// <c>ShutdownTimeout</c>, or is counted abandoned (and logged by count per stage) when there is no store.
    /// </summary>
    /// <param name="timeout">The time the run has to end, such as the host's <c>HostOptions.ShutdownTimeout</c>.</param>
    /// <param name="cancellationToken">Cancelled to skip the rest of the drain and take over at once.</param>
    /// <returns>
    /// The run's result; if stage code ignored its token, the result is taken at the deadline with that code's items given up. Only
    /// when the dead-letter store is still writing at the deadline does the result wait for it, at most 0.5 s more (its token is
    /// cancelled at the deadline, and an item whose write it gives up is counted abandoned).
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="timeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public async Task<PipelineResult> StopWithinAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return await StopAsync(cancellationToken).ConfigureAwait(false);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        var started = Stopwatch.GetTimestamp();
        RequestStop();
        var reserve = TimeSpan.FromTicks(Math.Min(Math.Clamp(timeout.Ticks / 4, s_minReserve.Ticks, s_maxReserve.Ticks), timeout.Ticks / 2));
        if (await WaitForCompletionAsync(timeout - reserve, cancellationToken).ConfigureAwait(false))
        {
            return await Completion.ConfigureAwait(false);
        }

        _lifecycle.Logger.DrainTimedOut(PipelineName);
        _lifecycle.AbortForShutdownTimeout();
        return await AbortThenTakeOverAsync(timeout - Stopwatch.GetElapsedTime(started)).ConfigureAwait(false);
    }

    /// <summary>After an abort: waits a quarter of <paramref name="remaining"/> for the run to end, then takes over with the rest.</summary>
    private async Task<PipelineResult> AbortThenTakeOverAsync(TimeSpan remaining)
    {
        var started = Stopwatch.GetTimestamp();
        if (await WaitForCompletionAsync(remaining / 4, CancellationToken.None).ConfigureAwait(false))
        {
            return await Completion.ConfigureAwait(false);
        }

        await TakeOverAsync(remaining - Stopwatch.GetElapsedTime(started)).ConfigureAwait(false);
        return await Completion.ConfigureAwait(false);
    }

    /// <summary>
    /// The run's last moment: claims what stage code holds, closes every handoff to its writers, drains every handoff giving its
    /// items up, waits (within <paramref name="remaining"/>) until nothing is unaccounted for, and completes <see cref="Completion"/>
    /// even if stage code never returns.
    /// </summary>
    private async Task TakeOverAsync(TimeSpan remaining)
    {
        if (Interlocked.Exchange(ref _takenOver, 1) != 0)
        {
            await Completion.ConfigureAwait(false);
            return;
        }

        var started = Stopwatch.GetTimestamp();

        // Published before anything is closed: closing the handoffs lets every stage end, and the run's normal end must then
        // still wait for the dead letters this take-over is writing before it disposes the store.
        var published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _takeOverWork = published.Task;
        var drains = Task.WhenAll(_stages.Select(stage => stage.DrainAtDeadlineAsync()));
        var claims = Task.WhenAll(_stages.Select(stage => stage.ClaimAndCloseAsync()));
        var work = Task.WhenAll(drains, claims);
        _ = work.ContinueWith(static (_, state) => ((TaskCompletionSource)state!).TrySetResult(), published, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var limit = remaining;
        await WaitAsync(work, limit - Stopwatch.GetElapsedTime(started)).ConfigureAwait(false);

        // Stage code that ignored its token may still be taking items (and counting them) while this looks: the decision that the
        // run is settled and the result's counts must come from one snapshot, or an item taken in between is in no outcome.
        IReadOnlyList<StageStatistics>? settled = null;
        while (!Completion.IsCompleted && (settled = TakeSettledSnapshot()) is null)
        {
            if (Stopwatch.GetElapsedTime(started) >= limit)
            {
                if (limit != remaining)
                {
                    break;
                }

                // The deadline has come with dead letters still being written: tell the store, and give it a short moment more.
                _lifecycle.PassDeadline();
                limit = remaining + s_storeGracePeriod;
            }

            await Task.Delay(s_settlePollInterval).ConfigureAwait(false);
        }

        if (Completion.IsCompleted)
        {
            return;
        }

        var stuck = _stages.Where(stage => !stage.Completion.IsCompleted).Select(stage => stage.Name).ToArray();
        if (stuck.Length > 0)
        {
            _lifecycle.Logger.RunAbandoned(PipelineName, string.Join(", ", stuck));
        }

        // The source learns what was accounted for by the deadline, then what the run owns is disposed (the dead-letter store among
        // it) within what is left; stage code still running gets no more items.
        await AcknowledgeFinallyAsync(remaining - Stopwatch.GetElapsedTime(started)).ConfigureAwait(false);
        _lifecycle.PassDeadline();
        var disposing = DisposeOwnedAsync();
        await WaitAsync(disposing, remaining - Stopwatch.GetElapsedTime(started)).ConfigureAwait(false);
        var statistics = settled ?? TakeSettledSnapshot();
        Finish(ended: statistics is not null, statistics);
    }

    /// <summary>
    /// Returns every stage's statistics if they show a settled run (every identity of <see cref="PipelineResult.IsAccounted"/> holds
    /// for an ended run), or <see langword="null"/>. Each stage's input count is read before its outcomes and a handoff's depth
    /// before its reader's input count, so a snapshot torn by a worker that is still running breaks an identity and is rejected.
    /// </summary>
    private IReadOnlyList<StageStatistics>? TakeSettledSnapshot()
    {
        if (!_stages.All(stage => stage.IsSettled))
        {
            return null;
        }

        var statistics = GetStatistics();
        var probe = new PipelineResult(
            PipelineName, PipelineStatus.Aborted, exception: null, faultedStage: null, statistics, _stages.All(stage => stage.IsOneToOne), [], ended: true);
        return probe.IsAccounted ? statistics : null;
    }

    /// <summary>
    /// Sends an acknowledging source its final acknowledgement (the watermark of what was accounted for), once, within
    /// <paramref name="limit"/>; a source that fails to record it faults the run.
    /// </summary>
    private async Task AcknowledgeFinallyAsync(TimeSpan limit)
    {
        if (_lifecycle.Acknowledgements is not { } ledger)
        {
            return;
        }

        using var timeout = new CancellationTokenSource();
        if (limit != Timeout.InfiniteTimeSpan)
        {
            timeout.CancelAfter(limit > TimeSpan.Zero ? limit : TimeSpan.Zero);
        }

        try
        {
            await ledger.CompleteAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // The deadline left no time to record it: the source resumes from the acknowledgement before, and items after it are
            // delivered again (at least once), which is no fault of the run's.
            _lifecycle.Logger.FinalAcknowledgementMissed(PipelineName);
        }
        catch (Exception exception)
        {
            _lifecycle.ReportFault(_stages[0], exception);
        }
    }

    /// <summary>Waits for <see cref="Completion"/> at most <paramref name="timeout"/>; <see langword="false"/> on timeout or cancellation.</summary>
    private async Task<bool> WaitForCompletionAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return Completion.IsCompleted;
        }

        await ((Task)Completion).WaitAsync(timeout, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return Completion.IsCompleted;
    }

    private static async Task WaitAsync(Task task, TimeSpan timeout)
    {
        if (timeout > TimeSpan.Zero)
        {
            await task.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
