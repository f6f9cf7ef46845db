using Pipeline.Primitives;

namespace Pipeline;

/// <summary>
/// Runs one stage for one run: waits for the stage downstream to be ready, runs the start hook, sets <see cref="Ready"/>,
/// processes its input until the input completes, runs the stop hook, completes its output and sets <see cref="Completed"/>.
/// Subclasses supply the processing.
/// </summary>
internal abstract class StageRunner
{
    /// <summary>Set when the stage must discard (and count as dropped) what is left of its input instead of processing it.</summary>
    private volatile bool _discarding;

    protected StageRunner(PipelineLifecycle lifecycle, string name, int index, ResolvedStageOptions options, object? instance)
    {
        Lifecycle = lifecycle;
        Name = name;
        Index = index;
        Options = options;
        Instance = instance;
    }

    public string Name { get; }

    /// <summary>The stage's position; 0 is the source.</summary>
    public int Index { get; }

    public ResolvedStageOptions Options { get; }

    public StageCounters Counters { get; } = new();

    /// <summary>Set once the stage's start hook has run and it accepts items.</summary>
    public Event Ready { get; } = new();

    /// <summary>Set once the stage has drained its input and completed its output.</summary>
    public Event Completed { get; } = new();

    /// <summary>The next stage; <see langword="null"/> for the sink.</summary>
    public StageRunner? Downstream { get; set; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>How many items wait in the stage's input handoff; <see langword="null"/> for the source or a handoff that cannot count.</summary>
    public virtual int? InputDepth => null;

    internal PipelineLifecycle Lifecycle { get; }

    internal bool IsDiscarding => _discarding;

    /// <summary>The stage object (for its hooks); <see langword="null"/> for built-in steps.</summary>
    private object? Instance { get; }

    public void StartDiscarding() => _discarding = true;

    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>Processes the input until it completes. Item errors are handled inside; an exception here is a stage fault.</summary>
    protected abstract Task ExecuteAsync();

    /// <summary>After an unexpected error: reads what is left of the input, counting it as dropped.</summary>
    protected abstract Task DiscardInputAsync();

    protected abstract void CompleteOutput();

    /// <summary>Handles an exception thrown by stage code for one item, per <see cref="ResolvedStageOptions.OnError"/>.</summary>
    internal ValueTask HandleItemErrorAsync<TItem>(TItem item, Exception exception, StageCounter counter)
    {
        counter.Failed++;
        if (Lifecycle.IsAbortCancellation(exception))
        {
            return DeadLetterAsync(item, "Discarded", exception: null, counter);
        }

        switch (Options.OnError)
        {
            case StageErrorMode.Skip:
                Lifecycle.Logger.ItemSkipped(Lifecycle.PipelineName, Name, exception);
                return default;
            case StageErrorMode.DeadLetter:
                Lifecycle.Logger.ItemDeadLettered(Lifecycle.PipelineName, Name, exception);
                return DeadLetterAsync(item, "Failed", exception, counter);
            default:
                Lifecycle.ReportFault(this, exception);
                return DeadLetterAsync(item, "Failed", exception, counter);
        }
    }

    /// <summary>Counts an item discarded unprocessed and, when the pipeline has a dead-letter store, writes it there.</summary>
    internal ValueTask DiscardAsync<TItem>(TItem item, StageCounter counter)
    {
        counter.Dropped++;
        return Lifecycle.DeadLetters is null ? default : DeadLetterAsync(item, "Discarded", Lifecycle.Fault, counter);
    }

    private async ValueTask DeadLetterAsync<TItem>(TItem item, string reason, Exception? exception, StageCounter counter)
    {
        if (Lifecycle.DeadLetters is not { } store)
        {
            return;
        }

        try
        {
            // Not cancelled by an abort: the point of the store is that nothing given up goes unseen.
            await store.WriteAsync(new DeadLetter(Lifecycle.PipelineName, Name, item, reason, exception, Lifecycle.TimeProvider.GetUtcNow()), CancellationToken.None)
                .ConfigureAwait(false);
            counter.DeadLettered++;
        }
        catch (Exception storeException)
        {
            Lifecycle.ReportFault(this, storeException);
        }
    }

    private async Task RunAsync()
    {
        var hooks = Instance as IStageLifecycle;
        var started = false;
        try
        {
            if (Downstream is null || await Lifecycle.WaitReadyAsync(Downstream).ConfigureAwait(false))
            {
                if (hooks is not null)
                {
                    await hooks.StartAsync(Lifecycle.AbortToken).ConfigureAwait(false);
                }

                started = true;
                Ready.Set();
            }
            else
            {
                StartDiscarding();
            }
        }
        catch (Exception exception) when (!Lifecycle.IsAbortCancellation(exception))
        {
            Lifecycle.ReportFault(this, exception);
        }
        catch (OperationCanceledException)
        {
            StartDiscarding();
        }

        try
        {
            await ExecuteAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Lifecycle.ReportFault(this, exception);
            await DiscardInputAsync().ConfigureAwait(false);
        }

        if (started && hooks is not null)
        {
            try
            {
                await hooks.StopAsync(Lifecycle.AbortToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!Lifecycle.IsAbortCancellation(exception))
            {
                Lifecycle.ReportFault(this, exception);
            }
            catch (OperationCanceledException)
            {
                // Aborted while flushing: the abort is already the run's outcome.
            }
        }

        CompleteOutput();
        Completed.Set();
    }
}
