using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Hosting;

public class PipelineHostedServiceTests
{
    internal static IHost BuildHost(Action<IServiceCollection> services, IDictionary<string, string?>? configuration = null, TimeSpan? shutdownTimeout = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(configuration ?? new Dictionary<string, string?>());
        if (shutdownTimeout is { } timeout)
        {
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
        }

        services(builder.Services);
        return builder.Build();
    }

    internal static PipelineHostedService ServiceOf(IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<PipelineHostedService>().Single();

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_FiniteSource_RunsThePipelineToCompletion()
    {
        var sink = new RecordingSink<int>();
        using var host = BuildHost(services => services.AddPipeline("numbers", p => p
            .From("read", ct => Range(100, ct))
            .Then("square", x => x * x)
            .To("collect", sink)),
            new Dictionary<string, string?> { ["Pipelines:numbers:Handoff:Kind"] = "Channel" });

        await host.StartAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 100).Select(x => x * x), sink.Items);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_Configuration_OverridesCodeDefaultsPerField()
    {
        using var host = BuildHost(services => services.AddPipeline("tuned", p =>
        {
            p.Handoff.Capacity = 64;
            p.From("read", Endless)
                .Then("parse", x => x, o => { o.Parallelism = 1; o.Handoff.Capacity = 8; })
                .Then("enrich", x => x, o => o.Handoff.FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait)
                .To("store", _ => { });
        }),
        new Dictionary<string, string?>
        {
            ["Pipelines:tuned:Handoff:Kind"] = "Channel",
            ["Pipelines:tuned:Handoff:Capacity"] = "128",
            ["Pipelines:tuned:Stages:parse:Parallelism"] = "4",
            ["Pipelines:tuned:Stages:parse:Ordered"] = "false",
            ["Pipelines:tuned:Stages:store:Handoff:Capacity"] = "256",
        });

        await host.StartAsync().WaitAsync(Bound);
        var stages = ServiceOf(host).Run!.Stages;
        await host.StopAsync().WaitAsync(Bound);

        var parse = stages[1].Options;
        Assert.Equal(4, parse.Parallelism);
        Assert.False(parse.Ordered);
        Assert.Equal(HandoffKind.Channel, parse.Handoff.Kind);
        Assert.Equal(128, parse.Handoff.Capacity); // pipeline configuration beats the stage's code default
        Assert.Equal(128, stages[2].Options.Handoff.Capacity);
        Assert.Equal(256, stages[3].Options.Handoff.Capacity); // stage configuration beats pipeline configuration
        Assert.Equal(1, stages[3].Options.Parallelism);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        Assert.Equal(PipelineStatus.Stopped, result.Status);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_HandoffKindPerStageInConfiguration_RunsEachStageOnItsKind()
    {
        var sink = new RecordingSink<int>();
        using var host = BuildHost(services => services.AddPipeline("mixed", p => p
            .From("read", ct => Range(500, ct))
            .Then("square", x => x * x)
            .Then("negate", x => -x)
            .To("collect", sink)),
            new Dictionary<string, string?>
            {
                ["Pipelines:mixed:Handoff:Kind"] = "Condition",
                ["Pipelines:mixed:Stages:negate:Handoff:Kind"] = "Semaphore",
                ["Pipelines:mixed:Stages:collect:Handoff:Kind"] = "Channel",
            });

        await host.StartAsync().WaitAsync(Bound);
        var stages = ServiceOf(host).Run!.Stages;
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal([HandoffKind.Condition, HandoffKind.Semaphore, HandoffKind.Channel], stages.Skip(1).Select(s => s.Options.Handoff.Kind));
        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 500).Select(x => -(x * x)), sink.Items);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_ParallelismFromConfiguration_RunsThatManyWorkers()
    {
        // Four calls must be in flight at once to pass the gate: with one worker this would never finish.
        var arrived = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sink = new RecordingSink<int>();
        using var host = BuildHost(services => services.AddPipeline("wide", p => p
            .From("read", ct => Range(4, ct))
            .Then("wait-for-four", async (int x, CancellationToken ct) =>
            {
                if (Interlocked.Increment(ref arrived) == 4)
                {
                    gate.SetResult();
                }

                await gate.Task.WaitAsync(ct);
                return x;
            })
            .To("collect", sink)),
            new Dictionary<string, string?>
            {
                ["Pipelines:wide:Handoff:Kind"] = "Channel",
                ["Pipelines:wide:Stages:wait-for-four:Parallelism"] = "4",
            });

        await host.StartAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal([0, 1, 2, 3], sink.Items);
    }

    [Fact(Timeout = 30_000)]
    public async Task StopAsync_HostStops_DrainsEverythingInFlight()
    {
        var sink = new RecordingSink<int>();
        using var host = BuildHost(services => services.AddPipeline("endless", p => p
            .From("read", Endless)
            .Then("double", x => x * 2)
            .To("collect", sink)),
            new Dictionary<string, string?> { ["Pipelines:endless:Handoff:Kind"] = "Channel", ["Pipelines:endless:Handoff:Capacity"] = "32" });

        await host.StartAsync().WaitAsync(Bound);
        await sink.WaitForCountAsync(1000, "a thousand items");
        await host.StopAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Stopped, result.Status);
        Assert.Equal(result["read"].In, sink.Count);
        Assert.Equal(Enumerable.Range(0, sink.Count).Select(x => x * 2), sink.Items);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task StopAsync_DrainExceedsShutdownTimeout_AbortsAndAccounts()
    {
        var sink = new RecordingSink<int>();
        sink.Close();
        var source = new SourceProgress();
        using var host = BuildHost(services => services.AddPipeline("stuck", p => p
            .From("read", source.Endless)
            .To("never", sink)),
            new Dictionary<string, string?> { ["Pipelines:stuck:Handoff:Kind"] = "Channel", ["Pipelines:stuck:Handoff:Capacity"] = "4" },
            shutdownTimeout: TimeSpan.FromMilliseconds(100));

        await host.StartAsync().WaitAsync(Bound);
        await source.WaitForTakenAsync(4, "the handoff to fill");
        await host.StopAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Aborted, result.Status);
        Assert.Equal(0, sink.Count);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task StageThrows_StopsTheHostAndReportsTheFault()
    {
        var logged = new ObservedQueue<string>();
        using var host = BuildHost(services =>
        {
            services.AddLogging(logging => logging.AddProvider(new ListLoggerProvider(logged)));
            services.AddPipeline("fragile", p => p
                .From("read", Endless)
                .Then("explode", x => x == 42 ? throw new InvalidOperationException("bad record 42") : x)
                .To("collect", _ => { }));
        }, new Dictionary<string, string?> { ["Pipelines:fragile:Handoff:Kind"] = "Channel" });

        await host.StartAsync().WaitAsync(Bound);
        await host.WaitForShutdownAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, result.Status);
        Assert.Equal("explode", result.FaultedStage);
        Assert.Equal("bad record 42", result.Exception!.Message);
        Assert.Contains(logged, line => line.Contains("fragile faulted in stage explode", StringComparison.Ordinal) && line.Contains("bad record 42", StringComparison.Ordinal));
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task GetPipeline_ByName_ReachesTheRunningPipelineToReadAndStopIt()
    {
        var source = new SourceProgress();
        using var host = BuildHost(services => services
            .AddPipeline("other", p => p.From("read", ct => Range(1, ct)).To("sink", _ => { }))
            .AddPipeline("endless", p => p.From("read", source.Endless).To("sink", _ => { })));
        await host.StartAsync().WaitAsync(Bound);

        var pipeline = host.Services.GetPipeline("ENDLESS");
        Assert.Same(pipeline, host.Services.GetRequiredKeyedService<PipelineHostedService>("endless"));
        await source.WaitForTakenAsync(11, "items to flow");
        pipeline.Run!.RequestStop();
        var result = await pipeline.Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Stopped, result.Status);
        var error = Assert.Throws<InvalidOperationException>(() => host.Services.GetPipeline("missing"));
        Assert.Equal("No pipeline named 'missing' is registered; registered: other, endless.", error.Message);
    }

    [Fact]
    public void AddPipeline_SameNameTwice_Throws()
    {
        var services = new ServiceCollection();
        services.AddPipeline("twice", p => p.From("a", ct => Range(1, ct)).To("b", _ => { }));

        Assert.Throws<ArgumentException>(() => services.AddPipeline("twice", p => p.From("a", ct => Range(1, ct)).To("b", _ => { })));
    }

    internal sealed class ListLoggerProvider(ObservedQueue<string> lines) : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new ListLogger(lines);

        public void Dispose()
        {
        }

        private sealed class ListLogger(ObservedQueue<string> lines) : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception?.Message}");
        }
    }
}
