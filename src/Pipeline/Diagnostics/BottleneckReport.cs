using System.Globalization;
using System.Text;

namespace Pipeline;

/// <summary>
/// Where a run's time went and which stage limits its throughput, from each stage's <see cref="StageStatistics.Busy"/>,
/// <see cref="StageStatistics.Starved"/> and <see cref="StageStatistics.Blocked"/> time, with what to change.
/// </summary>
/// <remarks>
/// A stage's shares are of its workers' time over the whole run (the longest <see cref="StageStatistics.Elapsed"/> × its
/// <see cref="StageStatistics.Workers"/>). The stage that limits throughput is the busiest one (the later one on a tie) when it is
/// busy more than half the run: the stages before it are then blocked on it and the ones after it starved. Stage code that awaits
/// I/O counts as busy, so busy is not CPU time. Thread-safe: immutable.
/// </remarks>
public sealed class BottleneckReport
{
    /// <summary>The busy share above which a stage is taken to limit the run.</summary>
    private const double SaturatedShare = 0.5;

    internal BottleneckReport(string pipelineName, IReadOnlyList<StageStatistics> stages)
    {
        // Every share is of the run's time (its longest-running stage's), so a stage that ended early is not "busy" for it.
        var run = stages.Count > 0 ? stages.Max(stage => stage.Elapsed) : TimeSpan.Zero;
        var shares = new StringBuilder();
        double busiest = 0;
        StageStatistics? limiting = null;
        var index = 0;
        var limitingIndex = -1;
        foreach (var stage in stages)
        {
            var capacity = run * stage.Workers;
            if (capacity > TimeSpan.Zero)
            {
                var busy = stage.Busy / capacity;
                shares.Append(shares.Length > 0 ? "; " : string.Empty)
                    .Append(CultureInfo.InvariantCulture, $"{stage.StageName} busy {Percent(busy)}")
                    .Append(stage.Workers > 1 ? string.Create(CultureInfo.InvariantCulture, $" of {stage.Workers} workers") : string.Empty)
                    .Append(stage.Starved > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $", starved {Percent(stage.Starved / capacity)}") : string.Empty)
                    .Append(stage.Blocked > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $", blocked {Percent(stage.Blocked / capacity)}") : string.Empty);
                if (busy >= busiest)
                {
                    (busiest, limiting, limitingIndex) = (busy, stage, index);
                }
            }

            index++;
        }

        Shares = shares.ToString();
        if (limiting is null || busiest <= SaturatedShare)
        {
            Advice = "No stage is busy more than half the run: the run mostly waits for input.";
            Text = Shares.Length > 0 ? $"{Shares}. {Advice}" : Advice;
            return;
        }

        LimitingStage = limiting.StageName;
        var key = $"{PipelineOptions.SectionName}:{pipelineName}:Stages:{limiting.StageName}:Parallelism";
        Advice = limitingIndex == 0
            ? $"The source {limiting.StageName} limits the run: the stages after it keep up with what it reads."
            : string.Create(CultureInfo.InvariantCulture, $"{limiting.StageName} limits the run: raise {key} (now {limiting.Workers}) if it can run in parallel and cores are free, or make it cheaper.");
        Text = string.Create(CultureInfo.InvariantCulture, $"{Shares}. Bottleneck: {limiting.StageName}, busy {Percent(busiest)}. {Advice}");
    }

    /// <summary>Gets the name of the stage that limits the run's throughput, or <see langword="null"/> when no stage is busy more than half its time.</summary>
    public string? LimitingStage { get; }

    /// <summary>Gets each stage's busy, starved and blocked shares, e.g. <c>read busy 21%, blocked 79%; parse busy 98% of 4 workers, starved 1%</c>.</summary>
    public string Shares { get; }

    /// <summary>Gets what to change, e.g. <c>parse limits the run: raise Pipelines:logs:Stages:parse:Parallelism (now 4) if it can run in parallel and cores are free, or make it cheaper.</c></summary>
    public string Advice { get; }

    /// <summary>Gets the whole report: <see cref="Shares"/>, the limiting stage and <see cref="Advice"/>.</summary>
    public string Text { get; }

    /// <inheritdoc/>
    public override string ToString() => Text;

    private static string Percent(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";
}
