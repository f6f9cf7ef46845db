using System.Globalization;
using System.Threading.Channels;

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

    /// <summary>
    /// The dead-letter reason of an item the stage did not hand on because the pipeline faulted or was aborted: unprocessed, or (an
    /// ordered parallel stage) processed with its outputs held back behind an earlier item that failed.
    /// </summary>
    public const string DiscardedReason = "Discarded";

    /// <summary>The dead-letter reason of an item not delivered by the host's shutdown deadline.</summary>
    public const string ShutdownTimeoutReason = "ShutdownTimeout";

    /// <summary>The most items handed to the dead-letter store at once when a stage gives up what is waiting in a handoff.</summary>
    internal const int GiveUpGroupSize = 256;

    /// <summary>Items of this stage that failed in this run, for the failure budget.</summary>
    private long _failures;

    /// <summary>Handles an exception thrown by stage code for one item, per <see cref="ResolvedStageOptions.OnError"/>.</summary>
    internal ValueTask HandleItemErrorAsync<TItem>(TItem item, long acknowledgement, Exception exception, StageCounter counter)
    {
        counter.Failed++;

        // Taken whatever becomes of the item, so that the exception, if thrown again, carries no count of this call.
        var attempts = AttemptCount.Take(exception);
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
                return GiveUpAsync(item, acknowledgement, FailedReason, exception, counter, reportFailure: true, attempts);
            default:
                // The run stops at this item: it is dead-lettered as a record, but keeps its acknowledgement, so that an acknowledging
                // source offers it again after a restart (the cause, such as a database that was down, may be gone by then).
                Lifecycle.ReportFault(this, exception);
                return GiveUpAsync(item, acknowledgement: 0, FailedReason, exception, counter, attempts: attempts);
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
    /// The one place where an item that is not handed on ends: counts its end and, when the item failed and was dead-lettered or
    /// was skipped on purpose, releases the acknowledgement it carries, so that the source's watermark may pass it. An item
    /// discarded or abandoned — given up because of a fault elsewhere, an abort or the shutdown deadline, dead-lettered or not —
    /// is passed 0 here: its acknowledgement stays held, so the watermark stops before it and an acknowledging source offers it
    /// again after a restart (at least once, rather than lost to a fault or a shutdown).
    /// </summary>
    internal void Account(StageCounter counter, ItemEnd end, long acknowledgement)
    {
        CountEnd(counter, end);
        if (end is ItemEnd.DeadLettered or ItemEnd.Skipped)
        {
            ReleaseAcknowledgement(acknowledgement);
        }
    }

    /// <summary>Releases one reference of the acknowledgement an item carries (0: none), where the item ends or was sunk.</summary>
    internal void ReleaseAcknowledgement(long acknowledgement)
    {
        if (acknowledgement != 0)
        {
            Lifecycle.Acknowledgements!.Release(acknowledgement);
        }
    }

    /// <summary>Releases one reference of each acknowledgement in <paramref name="acknowledgements"/> (none is 0), moving the watermark once.</summary>
    internal void ReleaseAcknowledgements(ReadOnlySpan<long> acknowledgements) => Lifecycle.Acknowledgements!.Release(acknowledgements);

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

    /// <summary>
    /// Gives up every item in <paramref name="items"/> as <see cref="DiscardAsync"/> (<paramref name="atDeadline"/> false) or
    /// <see cref="GiveUpAtDeadlineAsync"/> (true) would one by one, but hands them to the dead-letter store all at once, so that a
    /// store that commits in groups (one flush or fsync for every line waiting) persists them together instead of one commit each.
    /// Clears <paramref name="items"/>.
    /// </summary>
    internal async ValueTask GiveUpManyAsync<TItem>(List<Envelope<TItem>> items, bool atDeadline, StageCounter counter)
    {
        counter.Dropped += items.Count;
        var reason = atDeadline || Lifecycle.IsPastShutdownTimeout ? ShutdownTimeoutReason : DiscardedReason;
        var exception = reason == DiscardedReason ? Lifecycle.Fault : null;
        if (Lifecycle.DeadLetters is not { } store)
        {
            foreach (var envelope in items)
            {
                Account(counter, reason == ShutdownTimeoutReason ? ItemEnd.Abandoned : ItemEnd.Discarded, envelope.Acknowledgement);
            }

            items.Clear();
            return;
        }

        var writes = new Task[items.Count];
        for (var index = 0; index < writes.Length; index++)
        {
            writes[index] = StartWrite(store, items[index].Item, reason, exception);
        }

        for (var index = 0; index < writes.Length; index++)
        {
            await EndWriteAsync(writes[index], items[index].Acknowledgement, reason, counter, failure: null).ConfigureAwait(false);
        }

        items.Clear();
    }

    /// <summary>
    /// Reads <paramref name="reader"/> to its end, giving every item up in groups of what is waiting (see <see cref="GiveUpManyAsync"/>);
    /// <paramref name="countIn"/> when the items are taken from the stage's input here (not already counted in).
    /// </summary>
    internal Task GiveUpAllAsync<TItem>(ChannelReader<Envelope<TItem>> reader, bool atDeadline, bool countIn, StageCounter counter) =>
        GiveUpAllAsync([], reader, atDeadline, countIn, counter);

    /// <summary>
    /// Once the stage discards (which it then does to the run's end): gives up <paramref name="first"/>, already counted in, and
    /// every item <paramref name="reader"/> brings after it, to its end, in groups of what is waiting (one dead-letter commit per
    /// group rather than one per item). The caller's read loop then finds its input ended.
    /// </summary>
    internal Task DiscardRestAsync<TItem>(Envelope<TItem> first, ChannelReader<Envelope<TItem>> reader, StageCounter counter) =>
        GiveUpAllAsync([first], reader, atDeadline: false, countIn: true, counter);

    private async Task GiveUpAllAsync<TItem>(List<Envelope<TItem>> group, ChannelReader<Envelope<TItem>> reader, bool atDeadline, bool countIn, StageCounter counter)
    {
        do
        {
            while (reader.TryRead(out var envelope))
            {
                counter.In += countIn ? 1 : 0;
                group.Add(envelope);
                if (group.Count == GiveUpGroupSize)
                {
                    await GiveUpManyAsync(group, atDeadline, counter).ConfigureAwait(false);
                }
            }

            if (group.Count > 0)
            {
                await GiveUpManyAsync(group, atDeadline, counter).ConfigureAwait(false);
            }
        }
        while (await reader.WaitToReadAsync().ConfigureAwait(false));
    }

    /// <summary>Writes the item to the dead-letter store, if there is one, and counts where it ended.</summary>
    private ValueTask GiveUpAsync<TItem>(TItem item, long acknowledgement, string reason, Exception? exception, StageCounter counter, bool reportFailure = false, int attempts = 1)
    {
        if (Lifecycle.DeadLetters is not { } store)
        {
            Account(counter, reason == ShutdownTimeoutReason ? ItemEnd.Abandoned : ItemEnd.Discarded, acknowledgement);
            return default;
        }

        return EndWriteAsync(StartWrite(store, item, reason, exception, attempts), acknowledgement, reason, counter, reportFailure ? exception : null);
    }

    /// <summary>Starts writing one dead letter; a store that throws at once gives a faulted task.</summary>
    private Task StartWrite<TItem>(IDeadLetterStore store, TItem item, string reason, Exception? exception, int attempts = 1)
    {
        try
        {
            var deadLetter = new DeadLetter(Lifecycle.PipelineName, Name, item, reason, exception, Lifecycle.TimeProvider.GetUtcNow()) { Attempts = attempts };
            return store.WriteAsync(deadLetter, Lifecycle.DeadlineToken).AsTask();
        }
        catch (Exception storeException)
        {
            return Task.FromException(storeException);
        }
    }

    /// <summary>
    /// Waits for one dead-letter write and counts where its item ended; with <paramref name="failure"/> (an item that failed under
    /// <see cref="StageErrorMode.DeadLetter"/>), logs the item's failure once the outcome is known: "dead-lettered" only when the store
    /// has it, and the item's own exception either way (a store that fails faults the run with its own error).
    /// </summary>
    private async ValueTask EndWriteAsync(Task write, long acknowledgement, string reason, StageCounter counter, Exception? failure)
    {
        var kept = false;
        try
        {
            await write.ConfigureAwait(false);
            kept = true;

            // Only an item that failed itself is settled by its dead letter. One given up because of something else (a fault
            // elsewhere, an abort, the shutdown deadline) keeps its acknowledgement: an acknowledging source offers it again after
            // a restart, where it may well succeed; its dead letter is a record of what the run did not finish, not its only copy.
            Account(counter, ItemEnd.DeadLettered, reason == FailedReason ? acknowledgement : 0);
        }
        catch (Exception cancelled) when (cancelled is OperationCanceledException or ObjectDisposedException && Lifecycle.DeadlineToken.IsCancellationRequested)
        {
            // The run's last moment passed while the store wrote (or after the run's end closed it): as promised to the store, the
            // item is counted abandoned.
            Account(counter, ItemEnd.Abandoned, acknowledgement);
        }
        catch (Exception storeException)
        {
            Account(counter, reason == ShutdownTimeoutReason ? ItemEnd.Abandoned : ItemEnd.Discarded, acknowledgement);
            Lifecycle.ReportFault(this, storeException);
        }

        if (failure is not null)
        {
            FailureLog.Report(kept ? "dead-lettered" : "not dead-lettered: the dead-letter store did not take it", failure);
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
            // Items dealt to an ordered stage's lanes are counted in before stage code sees them: they are not yet in the ratio.
            var taken = Counters.SumIn() - WaitingInside();
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
