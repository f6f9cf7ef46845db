namespace Pipeline;

/// <summary>The counts of one stage: one <see cref="StageCounter"/> per worker plus the items its input handoff dropped.</summary>
/// <param name="clock">The run's clock: the stage's elapsed, starved and blocked times are its timestamps.</param>
internal sealed class StageCounters(TimeProvider clock)
{
    private readonly List<StageCounter> _workers = [];

    /// <summary>Items the input handoff dropped because of its full mode; written by any upstream writer, hence interlocked.</summary>
    private long _handoffDropped;

    /// <summary>When the stage began processing (a timestamp of the run's clock; 0: not yet).</summary>
    private long _startedAt;

    /// <summary>When the stage ended (a timestamp of the run's clock; 0: not yet).</summary>
    private long _endedAt;

    /// <summary>Marks the moment the stage begins processing items.</summary>
    public void MarkStarted() => Volatile.Write(ref _startedAt, clock.GetTimestamp());

    /// <summary>Marks the moment the stage has ended.</summary>
    public void MarkEnded() => Volatile.Write(ref _endedAt, clock.GetTimestamp());

    /// <summary>Returns a new counter for one worker.</summary>
    public StageCounter CreateWorker()
    {
        var counter = new StageCounter(clock);
        lock (_workers)
        {
            _workers.Add(counter);
        }

        return counter;
    }

    /// <summary>Counts one item that the input handoff dropped: it entered the stage and was dropped.</summary>
    public void CountHandoffDrop() => Interlocked.Increment(ref _handoffDropped);

    /// <summary>Items taken from the stage's input so far (every worker's, plus the handoff's drops).</summary>
    public long SumIn()
    {
        long input = 0;
        lock (_workers)
        {
            foreach (var worker in _workers)
            {
                input += Volatile.Read(ref worker.In);
            }
        }

        return input + Interlocked.Read(ref _handoffDropped);
    }

    /// <summary>
    /// Items not yet finished with: taken in and not yet processed, failed or dropped, plus failed or dropped items whose end
    /// (dead-lettered, skipped, discarded, abandoned) is not yet counted, such as a dead-letter write still going on.
    /// </summary>
    public long Unfinished()
    {
        long unfinished = 0;
        lock (_workers)
        {
            foreach (var worker in _workers)
            {
                var failedOrDropped = Volatile.Read(ref worker.Failed) + Volatile.Read(ref worker.Dropped);
                unfinished += Volatile.Read(ref worker.In) - Volatile.Read(ref worker.Out) - failedOrDropped;
                unfinished += failedOrDropped - Volatile.Read(ref worker.DeadLettered) - Volatile.Read(ref worker.Skipped)
                    - Volatile.Read(ref worker.Discarded) - Volatile.Read(ref worker.Abandoned);
            }
        }

        return unfinished;
    }

    /// <summary>Returns the stage's statistics now; <paramref name="workers"/> is how many workers share its time.</summary>
    public StageStatistics Snapshot(string name, long waiting, int workers)
    {
        long input = 0, output = 0, failed = 0, dropped = 0, produced = 0, deadLettered = 0, skipped = 0, discarded = 0, abandoned = 0, replayed = 0;
        long starved = 0, blocked = 0;
        lock (_workers)
        {
            foreach (var worker in _workers)
            {
                input += Volatile.Read(ref worker.In);
                output += Volatile.Read(ref worker.Out);
                failed += Volatile.Read(ref worker.Failed);
                dropped += Volatile.Read(ref worker.Dropped);
                produced += Volatile.Read(ref worker.Produced);
                deadLettered += Volatile.Read(ref worker.DeadLettered);
                skipped += Volatile.Read(ref worker.Skipped);
                discarded += Volatile.Read(ref worker.Discarded);
                abandoned += Volatile.Read(ref worker.Abandoned);
                replayed += Volatile.Read(ref worker.Replayed);
                starved += Volatile.Read(ref worker.StarvedTicks) + Ongoing(Volatile.Read(ref worker.StarvedSince));
                blocked += Volatile.Read(ref worker.BlockedTicks) + Ongoing(Volatile.Read(ref worker.BlockedSince));
            }
        }

        var handoffDropped = Interlocked.Read(ref _handoffDropped);
        return new StageStatistics(
            name, input + handoffDropped, output, failed, dropped + handoffDropped, produced, deadLettered, skipped, discarded + handoffDropped, abandoned, waiting)
        {
            Replayed = replayed,
            Workers = workers,
            Elapsed = Elapsed(),
            Starved = clock.GetElapsedTime(0, starved),
            Blocked = clock.GetElapsedTime(0, blocked),
        };
    }

    /// <summary>The ticks a wait that began at <paramref name="since"/> (0: none) has lasted so far.</summary>
    private long Ongoing(long since) => since == 0 ? 0 : Math.Max(0, clock.GetTimestamp() - since);

    private TimeSpan Elapsed()
    {
        var started = Volatile.Read(ref _startedAt);
        if (started == 0)
        {
            return TimeSpan.Zero;
        }

        var ended = Volatile.Read(ref _endedAt);
        return clock.GetElapsedTime(started, ended != 0 ? ended : clock.GetTimestamp());
    }
}
