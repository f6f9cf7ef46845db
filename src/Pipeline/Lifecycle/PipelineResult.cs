namespace Pipeline;

/// <summary>
/// The outcome of one pipeline run: how it ended, what every stage did with its items, and whether every item the source yielded
/// is accounted for.
/// </summary>
public sealed class PipelineResult
{
    /// <summary>Whether every stage had ended (or given up everything it held) when the result was taken.</summary>
    private readonly bool _ended;

    /// <summary>The bottleneck report, made on first use (a result probed at the deadline never needs one).</summary>
    private BottleneckReport? _bottleneck;

    internal PipelineResult(string pipelineName, PipelineStatus status, Exception? exception, string? faultedStage, IReadOnlyList<StageStatistics> stages)
        : this(pipelineName, status, exception, faultedStage, stages, isOneToOne: false, disposalErrors: [], ended: true)
    {
    }

    internal PipelineResult(
        string pipelineName,
        PipelineStatus status,
        Exception? exception,
        string? faultedStage,
        IReadOnlyList<StageStatistics> stages,
        bool isOneToOne,
        IReadOnlyList<Exception> disposalErrors,
        bool ended)
    {
        _ended = ended;
        PipelineName = pipelineName;
        Status = status;
        Exception = exception;
        FaultedStage = faultedStage;
        Stages = stages;
        DisposalErrors = disposalErrors;
        IsPipelineWideIdentityApplicable = isOneToOne;
        Yielded = stages.Count > 0 ? stages[0].In : 0;
        Sunk = stages.Count > 1 ? stages[^1].Out : 0;
        DeadLettered = stages.Sum(stage => stage.DeadLettered);
        Skipped = stages.Sum(stage => stage.Skipped);
        Dropped = stages.Sum(stage => stage.Discarded);
        Abandoned = stages.Sum(stage => stage.Abandoned);
        long inHandoffs = 0;
        for (var index = 1; index < stages.Count; index++)
        {
            inHandoffs += stages[index - 1].Produced - stages[index].In;
        }

        InHandoffs = inHandoffs;
        InFlight = stages.Sum(stage => stage.InFlight);
    }

    /// <summary>Gets which stage limited the run's throughput and what to change, from each stage's busy, starved and blocked time.</summary>
    public BottleneckReport Bottleneck => _bottleneck ??= new BottleneckReport(PipelineName, Stages);

    /// <summary>Gets the pipeline's name.</summary>
    public string PipelineName { get; }

    /// <summary>Gets how the run ended.</summary>
    public PipelineStatus Status { get; }

    /// <summary>Gets the error that faulted the run; <see langword="null"/> unless <see cref="Status"/> is <see cref="PipelineStatus.Faulted"/>.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets the name of the stage that faulted the run, if any.</summary>
    public string? FaultedStage { get; }

    /// <summary>Gets every stage's statistics, source first.</summary>
    public IReadOnlyList<StageStatistics> Stages { get; }

    /// <summary>Gets the errors thrown while disposing the run's stage objects and dead-letter store; they were logged, and do not fault the run.</summary>
    public IReadOnlyList<Exception> DisposalErrors { get; }

    /// <summary>Gets how many items the source yielded (its <see cref="StageStatistics.In"/>; those it could not hand on before the shutdown deadline are among the given-up ones).</summary>
    public long Yielded { get; }

    /// <summary>Gets how many items the sink wrote successfully.</summary>
    public long Sunk { get; }

    /// <summary>Gets how many items, over all stages, were written to the dead-letter store.</summary>
    public long DeadLettered { get; }

    /// <summary>Gets how many items, over all stages, failed and were skipped.</summary>
    public long Skipped { get; }

    /// <summary>Gets how many items, over all stages, were given up without being stored (see <see cref="StageStatistics.Discarded"/>).</summary>
    public long Dropped { get; }

    /// <summary>Gets how many items, over all stages, were given up at the shutdown deadline with no dead-letter store to take them.</summary>
    public long Abandoned { get; }

    /// <summary>
    /// Gets how many items were between stages when the result was taken: handed on by one stage (its <c>Produced</c>) and not yet
    /// taken by the next (its <c>In</c>), whether waiting in a handoff or held by a write still waiting for room. 0 once every stage
    /// has completed.
    /// </summary>
    public long InHandoffs { get; }

    /// <summary>Gets how many items stages had taken and not finished with when the result was taken (0 once every stage has completed).</summary>
    public long InFlight { get; }

    /// <summary>Gets how many items the source read: the items of a <see cref="PipelineStatus.Stopped"/> run, whose result is partial.</summary>
    public long ItemsRead => Stages.Count > 0 ? Stages[0].In : 0;

    /// <summary>Gets whether the run ended before its source did (stopped, faulted or aborted), so that its counts cover part of the input.</summary>
    public bool IsPartial => Status != PipelineStatus.Completed;

    /// <summary>
    /// Gets whether every pipeline stage is one-to-one (no <c>ThenMany</c> or <c>Batch</c>), so that items can be counted through the
    /// pipeline and <see cref="IsAccounted"/> checks the pipeline-wide identity too.
    /// </summary>
    public bool IsPipelineWideIdentityApplicable { get; }

    /// <summary>Gets whether <c>In = Out + Failed + Dropped</c> holds for every stage.</summary>
    public bool IsBalanced => Stages.All(stage => stage.IsBalanced);

    /// <summary>
    /// Gets whether every item is accounted for: per stage <c>In = Out + Failed + Dropped</c> and every failed or dropped item
    /// reached one end; between stages, what one produced the next took or holds in its handoff; and, when
    /// <see cref="IsPipelineWideIdentityApplicable"/>,
    /// <c>Yielded = Sunk + DeadLettered + Skipped + Dropped + Abandoned + InHandoffs + InFlight</c>.
    /// </summary>
    public bool IsAccounted => DescribeAccountingErrors().Count == 0;

    /// <summary>Gets one stage's statistics.</summary>
    /// <param name="stageName">The stage's name (case-insensitive).</param>
    /// <returns>The stage's statistics.</returns>
    /// <exception cref="KeyNotFoundException">Thrown when the pipeline has no stage named <paramref name="stageName"/>.</exception>
    public StageStatistics this[string stageName] =>
        Stages.FirstOrDefault(stage => string.Equals(stage.StageName, stageName, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"Pipeline '{PipelineName}' has no stage '{stageName}'.");

    /// <summary>Returns a description of every accounting identity that does not hold; empty when <see cref="IsAccounted"/>.</summary>
    /// <returns>One line per broken identity.</returns>
    public IReadOnlyList<string> DescribeAccountingErrors()
    {
        var errors = new List<string>();
        var running = !_ended;
        foreach (var stage in Stages)
        {
            if (running ? stage.In < stage.Out + stage.Failed + stage.Dropped : !stage.IsBalanced)
            {
                errors.Add($"{stage.StageName}: in {stage.In} != out {stage.Out} + failed {stage.Failed} + dropped {stage.Dropped}");
            }

            if (!stage.IsSettled && !running)
            {
                errors.Add($"{stage.StageName}: failed {stage.Failed} + dropped {stage.Dropped} != dead-lettered {stage.DeadLettered} + skipped {stage.Skipped} + discarded {stage.Discarded} + abandoned {stage.Abandoned}");
            }
        }

        for (var index = 1; index < Stages.Count; index++)
        {
            var upstream = Stages[index - 1];
            var stage = Stages[index];
            if (upstream.Produced != stage.In + stage.Waiting && !running)
            {
                errors.Add($"{upstream.StageName} produced {upstream.Produced} != {stage.StageName} in {stage.In} + waiting {stage.Waiting}");
            }
        }

        if (IsPipelineWideIdentityApplicable)
        {
            var accounted = Sunk + DeadLettered + Skipped + Dropped + Abandoned + InHandoffs + InFlight;
            if (Yielded != accounted)
            {
                errors.Add($"yielded {Yielded} != sunk {Sunk} + dead-lettered {DeadLettered} + skipped {Skipped} + dropped {Dropped} + abandoned {Abandoned} + in handoffs {InHandoffs} + in flight {InFlight}");
            }
        }

        return errors;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = $"{PipelineName} {Status}: {string.Join("; ", Stages)}";
        if (IsPipelineWideIdentityApplicable)
        {
            text += $". Yielded {Yielded} = sunk {Sunk} + dead-lettered {DeadLettered} + skipped {Skipped} + dropped {Dropped} + abandoned {Abandoned}"
                + (InHandoffs + InFlight > 0 ? $" + in handoffs {InHandoffs} + in flight {InFlight}" : string.Empty);
        }

        text += IsAccounted ? "; every item accounted for" : $"; ACCOUNTING DOES NOT BALANCE: {string.Join("; ", DescribeAccountingErrors())}";
        if (Status == PipelineStatus.Stopped)
        {
            text += $". Stopped before the source ended: {ItemsRead} items read; the result is partial";
        }

        return text + ".";
    }
}
