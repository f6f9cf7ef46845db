using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
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
        var measurements = new ConcurrentDictionary<string, long>();
        var depths = new ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Pipeline" && instrument.Meter.Tags?.Contains(new("pipeline", pipelineName)) == true)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var tagMap = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            measurements[$"{tagMap["stage"]}/{tagMap["outcome"]}"] = value;
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => depths.Add(instrument.Name));
        listener.Start();

        await host.StartAsync().WaitAsync(Bound);
        await ServiceOf(host).Completion.WaitAsync(Bound);
        listener.RecordObservableInstruments();
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(100, measurements["read/in"]);
        Assert.Equal(50, measurements["halve/out"]);
        Assert.Equal(50, measurements["halve/failed"]);
        Assert.Equal(50, measurements["collect/in"]);
        Assert.Equal(0, measurements["collect/dropped"]);
        Assert.Contains("pipeline.handoff.depth", depths);
    }
}
