using System.Diagnostics.Metrics;

namespace Pipeline;

/// <summary>
/// The <c>Pipeline</c> meter of one pipeline (meter tag <c>pipeline.name</c>): items taken and ended per stage, handoff depth and
/// capacity, each stage's busy, starved and blocked time, and the duration of each call of stage code. Every instrument but the
/// duration histogram is observable, read from the run's counters when a listener collects; the histogram is recorded on the item
/// path only while a listener has it enabled (see <see cref="StageRunner"/>.Telemetry.cs), so without one the item path pays nothing. The tags are the ones spans carry: <c>pipeline.name</c>,
/// <c>pipeline.stage</c>, <c>pipeline.handoff.kind</c>, <c>pipeline.outcome</c>.
/// </summary>
internal sealed class PipelineMetrics
{
    public const string MeterName = "Pipeline";

    /// <summary>The tag naming the pipeline (on the meter, and on the run's span).</summary>
    public const string PipelineTag = "pipeline.name";

    /// <summary>The tag naming a stage.</summary>
    public const string StageTag = "pipeline.stage";

    /// <summary>The tag naming a stage's handoff kind.</summary>
    public const string HandoffKindTag = "pipeline.handoff.kind";

    /// <summary>The tag naming how an item ended.</summary>
    public const string OutcomeTag = "pipeline.outcome";

    /// <summary>
    /// One <see cref="PipelineMetrics"/> per meter: a meter factory hands out the same <see cref="Meter"/> for the same name and tags,
    /// so building the same pipeline twice on one service provider must reuse its instruments rather than add a second set
    /// (which would double every value). Keyed weakly, so it holds nothing alive; a cache, not state of the pipeline.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Meter, PipelineMetrics> s_byMeter = [];

    /// <summary>The run being measured; replaced when the pipeline runs again.</summary>
    private volatile PipelineRun? _run;

    private readonly Dictionary<string, double> _busy = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _starved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _blocked = new(StringComparer.Ordinal);

    /// <summary>
    /// Bucket bounds for <see cref="StageDuration"/>, in seconds: stage calls range from microseconds (a parse) to seconds (a remote
    /// store), wider than the default bounds, which start at 5 ms.
    /// </summary>
    private static readonly double[] s_durationBuckets =
        [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private PipelineMetrics(Meter meter)
    {
        StageDuration = meter.CreateHistogram("pipeline.stage.duration", unit: "s",
            description: "The time of one call of stage code: per item, or per batch for a stage that takes batches; retries, rate-limit and circuit-breaker waits included.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        meter.CreateObservableCounter("pipeline.items.taken", ObserveTaken, unit: "{item}",
            description: "Items each stage took: read by the source, taken from its input handoff by any other stage.");
        meter.CreateObservableCounter("pipeline.items.ended", ObserveEnded, unit: "{item}",
            description: "Items each stage finished with, by pipeline.outcome: processed, dead_lettered, skipped, discarded, abandoned.");
        meter.CreateObservableUpDownCounter("pipeline.handoff.depth", () => ObserveHandoff(capacity: false), unit: "{item}",
            description: "Items waiting in each stage's input handoff.");
        meter.CreateObservableUpDownCounter("pipeline.handoff.capacity", () => ObserveHandoff(capacity: true), unit: "{item}",
            description: "The capacity of each stage's input handoff.");
        meter.CreateObservableCounter("pipeline.stage.busy.time", () => ObserveTime(static stage => stage.Busy, _busy), unit: "s",
            description: "Time each stage's workers, summed, ran stage code (neither starved nor blocked).");
        meter.CreateObservableCounter("pipeline.stage.starved.time", () => ObserveTime(static stage => stage.Starved, _starved), unit: "s",
            description: "Time each stage's workers, summed, waited for input.");
        meter.CreateObservableCounter("pipeline.stage.blocked.time", () => ObserveTime(static stage => stage.Blocked, _blocked), unit: "s",
            description: "Time each stage's workers, summed, waited for room in the next stage's handoff (back-pressure).");
    }

    /// <summary>The <c>pipeline.stage.duration</c> histogram (seconds; tags <c>pipeline.name</c>, <c>pipeline.stage</c>, <c>pipeline.outcome</c>).</summary>
    public Histogram<double> StageDuration { get; }

    /// <summary>Returns the metrics of pipeline <paramref name="pipelineName"/> on <paramref name="meterFactory"/>, creating its instruments once.</summary>
    public static PipelineMetrics GetOrCreate(IMeterFactory meterFactory, string pipelineName)
    {
        var meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = [new(PipelineTag, pipelineName)] });
        return s_byMeter.GetValue(meter, static created => new PipelineMetrics(created));
    }

    public void Track(PipelineRun run)
    {
        // A new run counts from zero again, like every other instrument here.
        _run = run;
        lock (_busy)
        {
            _busy.Clear();
        }

        lock (_starved)
        {
            _starved.Clear();
        }

        lock (_blocked)
        {
            _blocked.Clear();
        }
    }

    private IEnumerable<Measurement<long>> ObserveTaken()
    {
        if (_run is not { } run)
        {
            yield break;
        }

        foreach (var stage in run.GetStatistics())
        {
            yield return new Measurement<long>(stage.In, new KeyValuePair<string, object?>(StageTag, stage.StageName));
        }
    }

    private IEnumerable<Measurement<long>> ObserveEnded()
    {
        if (_run is not { } run)
        {
            yield break;
        }

        foreach (var stage in run.GetStatistics())
        {
            var name = new KeyValuePair<string, object?>(StageTag, stage.StageName);
            yield return new Measurement<long>(stage.Out, name, new(OutcomeTag, "processed"));
            yield return new Measurement<long>(stage.DeadLettered, name, new(OutcomeTag, "dead_lettered"));
            yield return new Measurement<long>(stage.Skipped, name, new(OutcomeTag, "skipped"));
            yield return new Measurement<long>(stage.Discarded, name, new(OutcomeTag, "discarded"));
            yield return new Measurement<long>(stage.Abandoned, name, new(OutcomeTag, "abandoned"));
        }
    }

    private IEnumerable<Measurement<int>> ObserveHandoff(bool capacity)
    {
        if (_run is not { } run)
        {
            yield break;
        }

        foreach (var stage in run.Stages)
        {
            if (stage.InputDepth is { } depth)
            {
                var handoff = stage.Options.Handoff;
                yield return new Measurement<int>(
                    capacity ? handoff.Capacity : depth,
                    new KeyValuePair<string, object?>(StageTag, stage.Name),
                    new KeyValuePair<string, object?>(HandoffKindTag, handoff.Kind.ToString()));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveTime(Func<StageStatistics, TimeSpan> time, Dictionary<string, double> reported)
    {
        if (_run is not { } run)
        {
            yield break;
        }

        foreach (var stage in run.GetStatistics())
        {
            // A counter never goes down: a reading torn by a wait that just ended may be a little low, and is held at the last value.
            double seconds;
            lock (reported)
            {
                var last = reported.TryGetValue(stage.StageName, out var value) ? value : 0;
                seconds = Math.Max(last, time(stage).TotalSeconds);
                reported[stage.StageName] = seconds;
            }

            yield return new Measurement<double>(seconds, new KeyValuePair<string, object?>(StageTag, stage.StageName));
        }
    }
}
