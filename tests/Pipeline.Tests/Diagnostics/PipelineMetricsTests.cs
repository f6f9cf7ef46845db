using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Pipeline.Handoffs;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Diagnostics;

public class PipelineMetricsTests
{
    [Fact(Timeout = 30_000)]
    public async Task Meter_AfterRun_ReportsItemsByStageAndOutcome()
    {
        var pipelineName = $"metered-{Guid.NewGuid():N}";
        using var host = BuildHost(
            services => services.AddPipeline(pipelineName, p => p
                .From("read", ct => Range(100, ct))
                .Then("halve", x => x % 2 == 0 ? x / 2 : throw new ArgumentException("odd"), o => o.OnError = StageErrorMode.Skip)
                .To("collect", _ => { })),
            new Dictionary<string, string?> { [$"Pipelines:{pipelineName}:Handoff:Kind"] = "Channel" });
        var measurements = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Pipeline" && instrument.Meter.Tags?.Contains(new("pipeline.name", pipelineName)) == true)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = instrument.Name + string.Concat(tags.ToArray().OrderBy(t => t.Key).Select(t => $"/{t.Key}={t.Value}"));
            measurements[key] = value;
        }

        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();

        await host.StartAsync().WaitAsync(Bound);
        await ServiceOf(host).Completion.WaitAsync(Bound);
        listener.RecordObservableInstruments();
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(100, measurements["pipeline.items.taken/pipeline.stage=read"]);
        Assert.Equal(100, measurements["pipeline.items.taken/pipeline.stage=halve"]);
        Assert.Equal(50, measurements["pipeline.items.ended/pipeline.outcome=processed/pipeline.stage=halve"]);
        Assert.Equal(50, measurements["pipeline.items.ended/pipeline.outcome=skipped/pipeline.stage=halve"]);
        Assert.Equal(0, measurements["pipeline.items.ended/pipeline.outcome=dead_lettered/pipeline.stage=halve"]);

        // Summing the ended counter over its outcomes counts every item a stage took once.
        var halveEnded = measurements.Where(m => m.Key.StartsWith("pipeline.items.ended/", StringComparison.Ordinal) && m.Key.EndsWith("/pipeline.stage=halve", StringComparison.Ordinal)).Sum(m => m.Value);
        Assert.Equal(100, halveEnded);
        Assert.Equal(50, measurements["pipeline.items.taken/pipeline.stage=collect"]);
        Assert.Equal(0, measurements["pipeline.handoff.depth/pipeline.handoff.kind=Channel/pipeline.stage=collect"]);
        Assert.True(measurements["pipeline.handoff.capacity/pipeline.handoff.kind=Channel/pipeline.stage=collect"] > 0);
        Assert.False(measurements.ContainsKey("pipeline.handoff.depth/pipeline.handoff.kind=Channel/pipeline.stage=read"), "a source has no input handoff");
        foreach (var time in new[] { "busy", "starved", "blocked" })
        {
            Assert.True(measurements.ContainsKey($"pipeline.stage.{time}.time/pipeline.stage=halve"), time);
        }

        Assert.True(measurements["pipeline.stage.starved.time/pipeline.stage=collect"] >= 0);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StageDuration_WithListener_RecordsEveryCallOfStageCodeByOutcomeAndOneCallPerBatch(HandoffKind kind)
    {
        var pipelineName = $"timed-{Guid.NewGuid():N}";
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        using var collector = new MetricCollector<double>(meterFactory, "Pipeline", "pipeline.stage.duration");
        var pipeline = NewPipeline(kind, name: pipelineName)
            .From("read", ct => Range(20, ct))
            .Then("halve", x => x % 2 == 0 ? x / 2 : throw new ArgumentException("odd"), o => o.OnError = StageErrorMode.Skip)
            .Then("slow", async (int x, CancellationToken ct) =>
            {
                await Task.Yield();
                return x;
            }, o => o.Parallelism = 2)
            .Batch("batch", size: 5, maxDelay: TimeSpan.FromMinutes(1))
            .To("store", (IReadOnlyList<int> _) => { })
            .Build(services);

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        var ours = collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags["pipeline.name"], pipelineName)).ToArray();
        Assert.All(ours, m => Assert.True(m.Value >= 0, $"{m.Value} s"));
        int Count(string stage, string outcome) => ours.Count(m => Equals(m.Tags["pipeline.stage"], stage) && Equals(m.Tags["pipeline.outcome"], outcome));
        Assert.Equal(10, Count("halve", "processed"));
        Assert.Equal(10, Count("halve", "failed"));
        Assert.Equal(10, Count("slow", "processed"));
        Assert.Equal(2, Count("store", "processed"));
        Assert.Equal(32, ours.Length);
        Assert.All(ours, m => Assert.Equal(["pipeline.name", "pipeline.outcome", "pipeline.stage"], m.Tags.Keys.Order()));
    }

    [Fact(Timeout = 30_000)]
    public async Task StageDuration_NoListener_RecordsNothingAndTakesNoTimestamp()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var run = NewPipeline(HandoffKind.Channel, name: $"untimed-{Guid.NewGuid():N}")
            .From("read", ct => Range(5, ct))
            .To("store", _ => { })
            .Build(services)
            .Start();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(0, run.Stages[1].BeginCall(trace: null).Started);
    }
}
