namespace Pipeline;

/// <summary>
/// The shutdown deadline of a stage: when a run must end now, the engine takes over what stage code still holds (its
/// <see cref="InFlightSlot{T}"/>s), closes the stage's output so that writers blocked on a full handoff are released, and drains the
/// stage's input itself, giving every item up (to the dead-letter store with reason <c>ShutdownTimeout</c>, or counted abandoned).
/// </summary>
internal abstract partial class StageRunner
{
    private readonly List<IInFlightSlot> _slots = [];
    private readonly List<Func<StageCounter, Task>> _reapers = [];
    private readonly List<Action> _closers = [];
    private readonly List<Func<int>> _waiting = [];

    /// <summary>
    /// Whether every item the stage took has reached its end (handed on, or dead-lettered, skipped, discarded or abandoned), even
    /// if its task has not ended because stage code ignores its token.
    /// </summary>
    public bool IsSettled => Counters.Unfinished() == 0;

    /// <summary>Returns a new slot for one worker to hold its item in while stage code runs.</summary>
    internal InFlightSlot<T> CreateSlot<T>()
    {
        var slot = new InFlightSlot<T>();
        lock (_slots)
        {
            _slots.Add(slot);
        }

        return slot;
    }

    /// <summary>
    /// Adds an inner handoff (beyond the stage's input) to drain at the deadline, how to close it to its writers, and how many items
    /// taken in wait in it for stage code.
    /// </summary>
    internal void AddDeadlineDrain(Func<StageCounter, Task> reaper, Action close, Func<int> waiting)
    {
        lock (_slots)
        {
            _reapers.Add(reaper);
            _closers.Add(close);
            _waiting.Add(waiting);
        }
    }

    /// <summary>Returns how many items the stage has taken in that wait in inner handoffs and have not reached stage code yet.</summary>
    internal long WaitingInside()
    {
        long waiting = 0;
        lock (_slots)
        {
            foreach (var count in _waiting)
            {
                waiting += count();
            }
        }

        return waiting;
    }

    /// <summary>Takes over every item that stage code holds, and closes the stage's output (and inner handoffs) to their writers.</summary>
    internal async Task ClaimAndCloseAsync()
    {
        var counter = Counters.CreateWorker();
        IInFlightSlot[] slots;
        Action[] closers;
        lock (_slots)
        {
            slots = _slots.ToArray();
            closers = _closers.ToArray();
        }

        // Closing first releases writers blocked on full handoffs at once; a worker that finishes before its item is claimed
        // then finds its output closed and gives the item up itself.
        CompleteOutput();
        foreach (var close in closers)
        {
            close();
        }

        foreach (var slot in slots)
        {
            await slot.ClaimAsync(this, counter).ConfigureAwait(false);
        }
    }

    /// <summary>Drains the stage's input (and inner handoffs) to their end, giving every item up; ends once its upstream is closed.</summary>
    internal Task DrainAtDeadlineAsync()
    {
        Func<StageCounter, Task>[] reapers;
        lock (_slots)
        {
            reapers = [.. _reapers];
        }

        var tasks = new List<Task> { DrainInputAtDeadlineAsync(Counters.CreateWorker()) };
        foreach (var reaper in reapers)
        {
            tasks.Add(reaper(Counters.CreateWorker()));
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>Reads the input to its end, giving each item up; the source has none.</summary>
    protected virtual Task DrainInputAtDeadlineAsync(StageCounter counter) => Task.CompletedTask;
}
