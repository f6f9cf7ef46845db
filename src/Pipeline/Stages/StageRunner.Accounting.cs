using System.Globalization;

namespace Pipeline;

/// <summary>What becomes of an item a stage does not hand on: every such item takes exactly one of these ends.</summary>
internal enum ItemEnd
{
    /// <summary>Written to the dead-letter store.</summary>
    DeadLettered,

    /// <summary>Failed and skipped (<see cref="StageErrorMode.Skip"/>).</summary>
    Skipped,

    /// <summary>Given up without being stored: no store, or the store failed.</summary>
    Discarded,

    /// <summary>Given up at the shutdown deadline with no store to take it.</summary>
    Abandoned,
}

/// <summary>The item give-up paths of a stage: errors per <see cref="StageErrorMode"/>, discards, and the one place an item ends.</summary>
internal abstract partial class StageRunner
{
    /// <summary>The dead-letter reason of an item whose stage threw.</summary>
    public const string FailedReason = "Failed";

    /// <summary>The dead-letter reason of an item discarded unprocessed because the pipeline faulted or was aborted.</summary>
    public const string DiscardedReason = "Discarded";

    /// <summary>The dead-letter reason of an item not delivered by the host's shutdown deadline.</summary>
    public const string ShutdownTimeoutReason = "ShutdownTimeout";

    /// <summary>Items of this stage that failed in this run, for the failure budget.</summary>
    private long _failures;

    /// <summary>Handles an exception thrown by stage code for one item, per <see cref="ResolvedStageOptions.OnError"/>.</summary>
    internal ValueTask HandleItemErrorAsync<TItem>(TItem item, long acknowledgement, Exception exception, StageCounter counter)
    {
        counter.Failed++;
        if (Lifecycle.IsAbortCancellation(exception))
        {
            return GiveUpAsync(item, acknowledgement, Lifecycle.IsPastShutdownTimeout ? ShutdownTimeoutReason : DiscardedReason, exception: null, counter);
        }

        CheckFailureBudget(Interlocked.Increment(ref _failures));
        switch (Options.OnError)
        {
            case StageErrorMode.Skip:
                FailureLog.Report("skipped", exception);
                Account(counter, ItemEnd.Skipped, acknowledgement);
                return default;
            case StageErrorMode.DeadLetter:
                FailureLog.Report("dead-lettered", exception);
                return GiveUpAsync(item, acknowledgement, FailedReason, exception, counter);
            default:
                Lifecycle.ReportFault(this, exception);
                return GiveUpAsync(item, acknowledgement, FailedReason, exception, counter);
        }
    }

    /// <summary>Counts an item discarded unprocessed and gives it up: to the dead-letter store if there is one.</summary>
    internal ValueTask DiscardAsync<TItem>(TItem item, long acknowledgement, StageCounter counter)
    {
        counter.Dropped++;
        return Lifecycle.IsPastShutdownTimeout
            ? GiveUpAsync(item, acknowledgement, ShutdownTimeoutReason, exception: null, counter)
            : GiveUpAsync(item, acknowledgement, DiscardedReason, Lifecycle.Fault, counter);
    }

    /// <summary>Counts an item taken over at the shutdown deadline (from a handoff or from stage code's hands) as dropped, and gives it up.</summary>
    internal ValueTask GiveUpAtDeadlineAsync<TItem>(TItem item, long acknowledgement, StageCounter counter)
    {
        counter.Dropped++;
        return GiveUpAsync(item, acknowledgement, ShutdownTimeoutReason, exception: null, counter);
    }

    /// <summary>
    /// The one place where an item that is not handed on ends: counts its end and releases the acknowledgement it carries, so that
    /// the source's watermark may pass it.
    /// </summary>
    internal void Account(StageCounter counter, ItemEnd end, long acknowledgement)
    {
        CountEnd(counter, end);
        ReleaseAcknowledgement(acknowledgement);
    }

    /// <summary>Releases one reference of the acknowledgement an item carries (0: none), where the item ends or was sunk.</summary>
    internal void ReleaseAcknowledgement(long acknowledgement)
    {
        if (acknowledgement != 0)
        {
            Lifecycle.Acknowledgements!.Release(acknowledgement);
        }
    }

    /// <summary>Adds <paramref name="count"/> references to the acknowledgement an item carries, before handing out that many outputs.</summary>
    internal void AddAcknowledgementReferences(long acknowledgement, int count)
    {
        if (acknowledgement != 0 && count > 0)
        {
            Lifecycle.Acknowledgements!.AddReferences(acknowledgement, count);
        }
    }

    private static void CountEnd(StageCounter counter, ItemEnd end)
    {
        switch (end)
        {
            case ItemEnd.DeadLettered:
                counter.DeadLettered++;
                break;
            case ItemEnd.Skipped:
                counter.Skipped++;
                break;
            case ItemEnd.Abandoned:
                counter.Abandoned++;
                break;
            default:
                counter.Discarded++;
                break;
        }
    }

    /// <summary>Writes the item to the dead-letter store, if there is one, and counts where it ended.</summary>
    private async ValueTask GiveUpAsync<TItem>(TItem item, long acknowledgement, string reason, Exception? exception, StageCounter counter)
    {
        var atDeadline = reason == ShutdownTimeoutReason;
        if (Lifecycle.DeadLetters is not { } store)
        {
            Account(counter, atDeadline ? ItemEnd.Abandoned : ItemEnd.Discarded, acknowledgement);
            return;
        }

        try
        {
            await store.WriteAsync(new DeadLetter(Lifecycle.PipelineName, Name, item, reason, exception, Lifecycle.TimeProvider.GetUtcNow()), Lifecycle.DeadlineToken)
                .ConfigureAwait(false);
            Account(counter, ItemEnd.DeadLettered, acknowledgement);
        }
        catch (OperationCanceledException) when (Lifecycle.DeadlineToken.IsCancellationRequested)
        {
            // The run's last moment passed while the store wrote: as promised to the store, the item is counted abandoned.
            Account(counter, ItemEnd.Abandoned, acknowledgement);
        }
        catch (Exception storeException)
        {
            Account(counter, atDeadline ? ItemEnd.Abandoned : ItemEnd.Discarded, acknowledgement);
            Lifecycle.ReportFault(this, storeException);
        }
    }

    /// <summary>Faults the pipeline when this stage has failed more items than its budget allows.</summary>
    private void CheckFailureBudget(long failures)
    {
        if (Options.MaxFailures is { } maxFailures && failures > maxFailures)
        {
            Lifecycle.ReportFault(this, new InvalidOperationException(
                $"Stage '{Name}' failed {failures} items, more than its MaxFailures of {maxFailures}."));
            return;
        }

        if (Options.MaxFailureRatio is { } maxRatio)
        {
            var taken = Counters.SumIn();
            if (taken >= Options.FailureRatioMinimumItems && taken > 0 && (double)failures / taken > maxRatio)
            {
                Lifecycle.ReportFault(this, new InvalidOperationException(string.Format(
                    CultureInfo.InvariantCulture,
                    "Stage '{0}' failed {1} of its {2} items, a ratio of {3:0.####}, more than its MaxFailureRatio of {4}.",
                    Name,
                    failures,
                    taken,
                    (double)failures / taken,
                    maxRatio)));
            }
        }
    }
}
