using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Hosting;

public class PipelineHealthCheckTests
{
    [Fact(Timeout = 30_000)]
    public async Task CheckHealthAsync_ThroughTheRunsLife_ReportsItsState()
    {
        var fail = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = BuildHost(
            services =>
            {
                services.AddPipeline("watched", p => p
                    .From("read", Endless)
                    .To("store", async (int x, CancellationToken ct) =>
                    {
                        if (fail.Task.IsCompleted)
                        {
                            throw new InvalidOperationException("store down");
                        }

                        await Task.Yield();
                    }));
                services.AddHealthChecks().AddPipelineHealthCheck("watched");
            },
            new Dictionary<string, string?> { ["Pipelines:watched:Handoff:Kind"] = "Channel" });
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var beforeStart = await health.CheckHealthAsync();
        await host.StartAsync().WaitAsync(Bound);
        var running = await health.CheckHealthAsync();
        fail.SetResult();
        await ServiceOf(host).Completion.WaitAsync(Bound);
        var faulted = await health.CheckHealthAsync();
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(HealthStatus.Unhealthy, beforeStart.Entries["pipeline:watched"].Status);
        Assert.Equal(HealthStatus.Healthy, running.Entries["pipeline:watched"].Status);
        Assert.Equal(HealthStatus.Unhealthy, faulted.Entries["pipeline:watched"].Status);
        Assert.Equal("store down", faulted.Entries["pipeline:watched"].Exception!.Message);
    }
}
