using Microsoft.Extensions.Logging;
using Pipeline.Primitives;

namespace Pipeline;

/// <summary>
/// The shared state of one run: the stop request, the first fault, the abort. Stages never cancel a write in flight; stopping
/// and faulting work by ending the source and letting every stage drain its input, discarding (and counting) what it should
/// not process.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The sources have no timers; a run's tokens stay valid for late RequestStop or Abort calls after it ends.")]
internal sealed class PipelineLifecycle
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _halt = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationTokenSource _deadline = new();
    private readonly object _faultLock = new();

    /// <summary>0 until the first stop request, then 1; makes <see cref="RequestStop"/> idempotent.</summary>
    private int _stopRequested;

    /// <summary>Set once <see cref="Abort"/> ran.</summary>
    private volatile bool _aborted;

    /// <summary>Set once the run was aborted because a shutdown deadline is near: what is given up from then on is reason <c>ShutdownTimeout</c>.</summary>
    private volatile bool _pastShutdownTimeout;

    public PipelineLifecycle(string pipelineName, ILogger logger, TimeProvider timeProvider)
    {
        PipelineName = pipelineName;
        Logger = logger;
        TimeProvider = timeProvider;
    }

    public string PipelineName { get; }

    public ILogger Logger { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>The stages, source first; set once before the run starts.</summary>
    public IReadOnlyList<StageRunner> Stages { get; set; } = [];

    /// <summary>Set when the pipeline is asked to stop: the source asks for no further item.</summary>
    public Event StopRequested { get; } = new();

    /// <summary>Whether <see cref="StopRequested"/> is set; the source checks it before asking for each item.</summary>
    public bool IsStopRequested => StopRequested.IsSet;

    public bool IsAborted => _aborted;

    /// <summary>Whether the run was aborted because it did not drain before a shutdown deadline.</summary>
    public bool IsPastShutdownTimeout => _pastShutdownTimeout;

    /// <summary>Gets or sets whether the source ended its sequence by itself, before any stop was requested.</summary>
    public bool IsSourceExhausted { get; set; }

    /// <summary>Cancelled when a stop is requested (or on fault or abort); handed to the source.</summary>
    public CancellationToken StoppingToken => _stopping.Token;

    /// <summary>Cancelled on a fault or an abort: ends waits for a downstream stage that will never be ready.</summary>
    public CancellationToken HaltToken => _halt.Token;

    /// <summary>Cancelled on abort only; handed to stage code, which a graceful stop lets finish.</summary>
    public CancellationToken AbortToken => _abort.Token;

    /// <summary>
    /// Cancelled at the run's last moment (the host's shutdown deadline, once the engine has taken over and given up what stage
    /// code held): handed to the dead-letter store, which may then give up a write; that item is counted abandoned.
    /// </summary>
    public CancellationToken DeadlineToken => _deadline.Token;

    /// <summary>The run's acknowledgements when its source acknowledges; <see langword="null"/> for a plain source. Set before the run starts.</summary>
    public AcknowledgementLedger? Acknowledgements { get; set; }

    /// <summary>The share of the source's items to trace (<see cref="TracingSettings.SampleRatio"/>); 0: none.</summary>
    public double SampleRatio { get; init; }

    /// <summary>Decides which items are traced (none while its ratio is 0). Set when the run starts, before the stages.</summary>
    public ItemSampler? Sampler { get; set; }

    /// <summary>The pipeline's instruments; <see langword="null"/> when it was built without an <c>IMeterFactory</c>. Set before the stages are created.</summary>
    public PipelineMetrics? Metrics { get; set; }

    /// <summary>Where given-up items go; <see langword="null"/> when the pipeline has no dead-letter store.</summary>
    public IDeadLetterStore? DeadLetters { get; set; }

    public Exception? Fault { get; private set; }

    public StageRunner? FaultedStage { get; private set; }

    public void RequestStop()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) != 0)
        {
            return;
        }

        StopRequested.Set();
        _stopping.Cancel();
    }

    /// <summary>
    /// Records the first fault: the faulted stage and every stage upstream of it discard what is left of their input, the source
    /// stops, and the stages downstream drain what they already have.
    /// </summary>
    public void ReportFault(StageRunner stage, Exception exception)
    {
        lock (_faultLock)
        {
            if (Fault is not null)
            {
                return;
            }

            Fault = exception;
            FaultedStage = stage;
        }

        Logger.StageFaulted(PipelineName, stage.Name, exception);
        for (var index = 0; index <= stage.Index; index++)
        {
            Stages[index].StartDiscarding();
        }

        RequestStop();
        _halt.Cancel();
    }

    /// <summary>Aborts because the shutdown deadline is near: from now on every item given up has reason <c>ShutdownTimeout</c>.</summary>
    public void AbortForShutdownTimeout()
    {
        _pastShutdownTimeout = true;
        Abort();
    }

    /// <summary>The run's last moment has come: dead-letter writes still going on may give up.</summary>
    public void PassDeadline()
    {
        _pastShutdownTimeout = true;
        Abort();
        _deadline.Cancel();
    }

    /// <summary>Ends the run now: stage code sees its token cancelled, and every stage discards what is left of its input.</summary>
    public void Abort()
    {
        if (_aborted)
        {
            return;
        }

        _aborted = true;
        foreach (var stage in Stages)
        {
            stage.StartDiscarding();
        }

        RequestStop();
        _halt.Cancel();
        _abort.Cancel();
    }

    /// <summary>Waits until <paramref name="downstream"/> is ready; <see langword="false"/> if the run halted first.</summary>
    public async Task<bool> WaitReadyAsync(StageRunner downstream)
    {
        try
        {
            await downstream.Ready.WaitAsync(HaltToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (HaltToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="exception"/> is stage code giving up because the run was aborted.</summary>
    public bool IsAbortCancellation(Exception exception) =>
        exception is OperationCanceledException && _abort.IsCancellationRequested;
}
