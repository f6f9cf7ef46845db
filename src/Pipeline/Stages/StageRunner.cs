using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Pipeline.Primitives;

namespace Pipeline;

/// <summary>
/// Runs one stage for one run: waits for the stage downstream to be ready, runs the start hook, sets <see cref="Ready"/>,
/// processes its input until the input completes, runs the stop hook, completes its output and sets <see cref="Completed"/>
/// (on every path). Subclasses supply the processing; the give-up paths for items (<see cref="StageRunner"/>.Accounting.cs) and the
/// shutdown deadline (<see cref="StageRunner"/>.Deadline.cs) live in partial files.
/// </summary>
internal abstract partial class StageRunner
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
        FailureLog = new ItemFailureLog(lifecycle.Logger, lifecycle.PipelineName, name, lifecycle.TimeProvider);
        Counters = new StageCounters(lifecycle.TimeProvider);
        InitializeTelemetry();
    }

    public string Name { get; }

    /// <summary>The stage's position; 0 is the source.</summary>
    public int Index { get; }

    public ResolvedStageOptions Options { get; private set; }

    /// <summary>
    /// Puts in force the failure budget of <paramref name="options"/> (a configuration reload); nothing else changes. Returns
    /// whether it differed from the one in force.
    /// </summary>
    internal bool ChangeFailureBudget(ResolvedStageOptions options)
    {
        var changed = Options with
        {
            MaxFailures = options.MaxFailures,
            MaxFailureRatio = options.MaxFailureRatio,
            FailureRatioMinimumItems = options.FailureRatioMinimumItems,
        };
        if (changed == Options)
        {
            return false;
        }

        Options = changed;
        return true;
    }

    public StageCounters Counters { get; }

    /// <summary>Set once the stage's start hook has run and it accepts items.</summary>
    public Event Ready { get; } = new();

    /// <summary>Set once the stage has drained its input and completed its output.</summary>
    public Event Completed { get; } = new();

    /// <summary>The next stage; <see langword="null"/> for the sink.</summary>
    public StageRunner? Downstream { get; set; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>How many items wait in the stage's input handoff; <see langword="null"/> for the source or a handoff that cannot count.</summary>
    public virtual int? InputDepth => null;

    /// <summary>Whether the stage hands on exactly one output per successful input (so item counts carry through the pipeline).</summary>
    public virtual bool IsOneToOne => true;

    internal PipelineLifecycle Lifecycle { get; }

    internal bool IsDiscarding => _discarding;

    internal ItemFailureLog FailureLog { get; }

    /// <summary>The stage object (for its hooks); <see langword="null"/> for built-in steps.</summary>
    private object? Instance { get; }

    public void StartDiscarding() => _discarding = true;

    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>Processes the input until it completes. Item errors are handled inside; an exception here is a stage fault.</summary>
    protected abstract Task ExecuteAsync();

    /// <summary>After an unexpected error: reads what is left of the input, counting it as dropped.</summary>
    protected abstract Task DiscardInputAsync();

    protected abstract void CompleteOutput();

    private async Task RunAsync()
    {
        try
        {
            await RunStagesAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Only a fault of the engine itself gets here (discarding failed, a hook's fault could not be reported...).
            Lifecycle.ReportFault(this, exception);
        }
        finally
        {
            Counters.MarkEnded();
            FailureLog.Flush();
            CompleteOutput();
            Completed.Set();
        }
    }

    private async Task RunStagesAsync()
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

        Counters.MarkStarted();
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
    }

    /// <summary>
    /// Writes <paramref name="output"/> downstream; <see langword="false"/> when the output was closed at the shutdown deadline, in
    /// which case the item was not delivered and the caller gives its input up.
    /// </summary>
    /// <remarks>
    /// Callers count the output (<c>Out</c>, <c>Produced</c>) before they write and undo the count if the write fails: from the count
    /// on, the item is in the handoff (<c>Produced</c> upstream minus <c>In</c> downstream), even while a write waits for room. A
    /// reader that frees room may move a waiting writer's item in and take it long before the writer's continuation runs (a busy
    /// thread pool), so counting after the write would show that item twice: in the writer's hands and in the reader's.
    /// </remarks>
    /// <summary>
    /// Counts one output handed on (<c>Out</c> and <c>Produced</c>) and writes it downstream; <see langword="false"/>, with the count
    /// undone, when the output was closed at the shutdown deadline (the caller then gives the input up). See <see cref="WriteSlowAsync"/>
    /// for why the count comes first.
    /// </summary>
    internal static ValueTask<bool> HandOnAsync<TOut>(ChannelWriter<Envelope<TOut>> writer, Envelope<TOut> output, StageCounter counter)
    {
        counter.Out++;
        counter.Produced++;
        return writer.TryWrite(output) ? new ValueTask<bool>(true) : HandOnSlowAsync(writer, output, counter);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> HandOnSlowAsync<TOut>(ChannelWriter<Envelope<TOut>> writer, Envelope<TOut> output, StageCounter counter)
    {
        if (await WriteSlowAsync(writer, output, counter).ConfigureAwait(false))
        {
            return true;
        }

        counter.Out--;
        counter.Produced--;
        return false;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal static async ValueTask<bool> WriteSlowAsync<TOut>(ChannelWriter<Envelope<TOut>> writer, Envelope<TOut> output, StageCounter? counter)
    {
        var started = counter?.Clock.GetTimestamp() ?? 0;
        if (counter is not null)
        {
            Volatile.Write(ref counter.BlockedSince, started);
        }

        try
        {
            await writer.WriteAsync(output).ConfigureAwait(false);
            return true;
        }
        catch (ChannelClosedException)
        {
            return false;
        }
        finally
        {
            // Waiting for room downstream: the worker's blocked time (back-pressure).
            if (counter is not null)
            {
                counter.BlockedTicks += counter.Clock.GetTimestamp() - started;
                Volatile.Write(ref counter.BlockedSince, 0);
            }
        }
    }

    /// <summary>
    /// Waits for input (<see cref="ChannelReader{T}.WaitToReadAsync(CancellationToken)"/>); a wait that does not complete at once
    /// counts as the worker's starved time.
    /// </summary>
    internal static ValueTask<bool> WaitForInputAsync<T>(ChannelReader<T> reader, StageCounter counter)
    {
        var waiting = reader.WaitToReadAsync();
        return waiting.IsCompleted ? waiting : TimeStarvedAsync(waiting, counter);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> TimeStarvedAsync(ValueTask<bool> waiting, StageCounter counter)
    {
        var started = counter.Clock.GetTimestamp();
        Volatile.Write(ref counter.StarvedSince, started);
        try
        {
            return await waiting.ConfigureAwait(false);
        }
        finally
        {
            counter.StarvedTicks += counter.Clock.GetTimestamp() - started;
            Volatile.Write(ref counter.StarvedSince, 0);
        }
    }
}
