using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Handoffs;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Hosting;

/// <summary>How hosted pipelines stop with their host: together, within the deadline, and never left running alone.</summary>
public class HostShutdownTests
{
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopAsync_TwoPipelines_BothBeginDrainingWhenTheHostBeginsStopping(HandoffKind kind)
    {
        // The host stops services in reverse order: "second" first. Its sink finishes draining only once "first" has been asked
        // to stop too, which happens at once only if every pipeline begins draining when the host begins stopping.
        PipelineRun? first = null;
        PipelineRun? second = null;
        var sunk = new ConcurrentDictionary<string, int>();
        var (firstSource, secondSource) = (new SourceProgress(), new SourceProgress());
        using var host = BuildHost(
            services => services
                .AddPipeline("first", p => p.From("read", firstSource.Endless).To("sink", _ => sunk.AddOrUpdate("first", 1, (_, n) => n + 1)))
                .AddPipeline("second", p => p.From("read", secondSource.Endless).To("sink", async (int _, CancellationToken ct) =>
                {
                    if (second?.IsStopRequested == true)
                    {
                        await first!.WaitStopRequestedAsync(ct).AsTask().WaitAsync(Bound, ct); // the first pipeline is asked to stop
                    }

                    sunk.AddOrUpdate("second", 1, (_, n) => n + 1);
                })),
            new Dictionary<string, string?> { ["Pipelines:first:Handoff:Kind"] = kind.ToString(), ["Pipelines:second:Handoff:Kind"] = kind.ToString() },
            shutdownTimeout: TimeSpan.FromSeconds(20));
        await host.StartAsync().WaitAsync(Bound);
        var services = host.Services.GetServices<IHostedService>().OfType<PipelineHostedService>().ToArray();
        first = services.Single(s => s.PipelineName == "first").Run;
        second = services.Single(s => s.PipelineName == "second").Run;
        await firstSource.WaitForTakenAsync(101, "items to flow through the first pipeline");
        await secondSource.WaitForTakenAsync(101, "items to flow through the second pipeline");

        var stopwatch = Stopwatch.StartNew();
        await host.StopAsync().WaitAsync(Bound);

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), $"stopping took {stopwatch.Elapsed}");
        foreach (var service in services)
        {
            var result = await service.Completion.WaitAsync(Bound);
            Assert.Equal(PipelineStatus.Stopped, result.Status);
            Assert.Equal(result.Yielded, result.Sunk);
            AssertAccounted(result);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_Cancelled_StopsTheRun()
    {
        var events = new ObservedQueue<string>();
        var neverReady = new TaskCompletionSource();
        var hooks = new HookRecorder(events, "sink", neverReady.Task);
        using var host = BuildHost(
            services => services.AddPipeline("unready", p => p.From("read", Endless).To("sink", hooks)),
            new Dictionary<string, string?> { ["Pipelines:unready:Handoff:Kind"] = "Channel" },
            shutdownTimeout: TimeSpan.FromMilliseconds(500));
        var service = ServiceOf(host);
        using var cancel = new CancellationTokenSource();
        var starting = service.StartAsync(cancel.Token);
        await events.WaitUntilAsync(recorded => recorded.Contains("start:sink"), "the sink's start hook");

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starting.WaitAsync(Bound));
        Assert.True(service.Run!.IsStopRequested);
        var result = await service.Completion.WaitAsync(Bound);
        Assert.Equal(0, result.Yielded);
        AssertAccounted(result);
    }
}
