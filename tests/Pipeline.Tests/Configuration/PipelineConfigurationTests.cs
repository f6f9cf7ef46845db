using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Configuration;

public class PipelineConfigurationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Stages:parse:Parallelism", "0", "Pipelines:access-logs:Stages:parse:Parallelism must be between 1 and 1024, was 0" },
        { "Stages:parse:Parallelism", "1025", "Pipelines:access-logs:Stages:parse:Parallelism must be between 1 and 1024, was 1025" },
        { "Stages:parse:Parallelism", "many", "Pipelines:access-logs:Stages:parse:Parallelism must be an integer between 1 and 1024, was 'many'" },
        { "Stages:parse:Ordered", "maybe", "Pipelines:access-logs:Stages:parse:Ordered must be true or false, was 'maybe'" },
        { "Handoff:Capacity", "0", "Pipelines:access-logs:Handoff:Capacity must be between 1 and 1048576, was 0" },
        { "Stages:store:Handoff:Capacity", "2000000", "Pipelines:access-logs:Stages:store:Handoff:Capacity must be between 1 and 1048576, was 2000000" },
        { "Handoff:Kind", "Queue", "Pipelines:access-logs:Handoff:Kind must be one of Condition, Semaphore, Channel, was 'Queue'" },
        { "Handoff:Kind", "7", "Pipelines:access-logs:Handoff:Kind must be one of Condition, Semaphore, Channel, was '7'" },
        { "Handoff:FullMode", "Block", "Pipelines:access-logs:Handoff:FullMode must be one of Wait, DropNewest, DropOldest, DropWrite, was 'Block'" },
        { "Stages:parse:OnError", "Retry", "Pipelines:access-logs:Stages:parse:OnError must be one of Stop, DeadLetter, Skip, was 'Retry'" },
        { "Stages:pasre:Parallelism", "2", "Pipelines:access-logs:Stages:pasre is not a stage of pipeline 'access-logs'; stages: read, parse, store" },
        { "Stages:parse:Paralelism", "2", "Pipelines:access-logs:Stages:parse:Paralelism is not a known setting; allowed: Parallelism, Ordered, Handoff, OnError, Resilience, MaxFailures, MaxFailureRatio, FailureRatioMinimumItems" },
        { "Handoff:Size", "2", "Pipelines:access-logs:Handoff:Size is not a known setting; allowed: Kind, Capacity, FullMode" },
        { "Retries", "2", "Pipelines:access-logs:Retries is not a known setting; allowed: Handoff, Stages, DeadLetter, Acknowledgement, Progress, Tracing, Redis" },
        { "Stages:store:Ordered", "true", "Pipelines:access-logs:Stages:store:Ordered is not a known setting; allowed: Parallelism, Handoff, OnError, Resilience, MaxFailures, MaxFailureRatio, FailureRatioMinimumItems" },
        { "Stages:read:Parallelism", "2", "Pipelines:access-logs:Stages:read:Parallelism is not a setting of the source stage 'read'; a source takes no stage settings" },
        { "Stages:store:Resilience:Retry:MaxRetryAttempts", "0", "Pipelines:access-logs:Stages:store:Resilience:Retry:MaxRetryAttempts must be between 1 and 100, was 0" },
        { "Stages:store:Resilience:Retry:BackoffType", "Random", "Pipelines:access-logs:Stages:store:Resilience:Retry:BackoffType must be one of Constant, Linear, Exponential, was 'Random'" },
        { "Stages:store:Resilience:Timeout", "soon", "Pipelines:access-logs:Stages:store:Resilience:Timeout must be a time span such as 00:00:05, was 'soon'" },
        { "Stages:store:OnError", "DeadLetter", "Pipelines:access-logs:Stages:store:OnError is DeadLetter, which needs Pipelines:access-logs:DeadLetter:Path or a registered IDeadLetterStore" },
        { "Handoff", "fast", "Pipelines:access-logs:Handoff must be a section with Kind, Capacity, FullMode, was 'fast'" },
        { "Stages:parse:Parallelism:Min", "1", "Pipelines:access-logs:Stages:parse:Parallelism must be an integer between 1 and 1024, was a section with Min" },
        { "Stages:parse:0", "fast", "Pipelines:access-logs:Stages:parse must be a section with Parallelism, Ordered, Handoff, OnError, Resilience, MaxFailures, MaxFailureRatio, FailureRatioMinimumItems, was a list (item 0: 'fast')" },
        { "DeadLetter:Path:0", "a.jsonl", "Pipelines:access-logs:DeadLetter:Path must be a file path, was a list: 'a.jsonl'" },
        { "Stages:batch:Parallelism", "2", "Pipelines:access-logs:Stages:batch is not a stage of pipeline 'access-logs'; stages: read, parse, store" },
        { "DeadLetter:Folder", "x", "Pipelines:access-logs:DeadLetter:Folder is not a known setting; allowed: Path, Durability" },
        { "DeadLetter:Durability", "Sync", "Pipelines:access-logs:DeadLetter:Durability must be one of Flush, Fsync, was 'Sync'" },
        { "Stages:parse:MaxFailures", "-1", "Pipelines:access-logs:Stages:parse:MaxFailures must be 0 or more, was -1" },
        { "Stages:parse:MaxFailures", "many", "Pipelines:access-logs:Stages:parse:MaxFailures must be an integer between 0 and 2147483647, was 'many'" },
        { "Stages:store:MaxFailureRatio", "1.5", "Pipelines:access-logs:Stages:store:MaxFailureRatio must be between 0 and 1, was 1.5" },
        { "Stages:store:MaxFailureRatio", "half", "Pipelines:access-logs:Stages:store:MaxFailureRatio must be a number between 0 and 1, was 'half'" },
        { "Stages:parse:FailureRatioMinimumItems", "0", "Pipelines:access-logs:Stages:parse:FailureRatioMinimumItems must be 1 or more, was 0" },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(BadSettings))]
    public async Task StartAsync_BadSetting_FailsNamingKeyValueAndAllowedValues(string key, string value, string expected)
    {
        var sinkRan = false;
        using var host = BuildHost(
            services => services.AddPipeline("access-logs", p => p
                .From("read", ct => Range(10, ct))
                .Then("parse", x => x)
                .To("store", _ => sinkRan = true)),
            new Dictionary<string, string?> { ["Pipelines:access-logs:Handoff:Kind"] = "Channel", [$"Pipelines:access-logs:{key}"] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains(expected, error.Failures);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(sinkRan);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_ParallelismOnBatchingStep_FailsNamingTheAllowedSettings()
    {
        using var host = BuildHost(
            services => services.AddPipeline("grouped", p => p
                .From("read", ct => Range(10, ct))
                .Batch("group", 5, TimeSpan.FromSeconds(1))
                .To("store", _ => { })),
            new Dictionary<string, string?>
            {
                ["Pipelines:grouped:Stages:group:Handoff:Capacity"] = "8",
                ["Pipelines:grouped:Stages:group:Parallelism"] = "2",
            });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Equal(["Pipelines:grouped:Stages:group:Parallelism is not a known setting; allowed: Handoff"], error.Failures);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_UnregisteredPipelineName_FailsNamingIt()
    {
        using var host = BuildHost(
            services => services
                .AddPipeline("access-logs", p => p.From("read", ct => Range(10, ct)).To("store", _ => { }))
                .AddPipeline("metrics", p => p.From("read", ct => Range(10, ct)).To("store", _ => { })),
            new Dictionary<string, string?> { ["Pipelines:acess-logs:Handoff:Kind"] = "Channel" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Equal(["Pipelines:acess-logs is not a registered pipeline; pipelines: access-logs, metrics"], error.Failures);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_SeveralBadSettings_ReportsEveryOne()
    {
        using var host = BuildHost(
            services => services.AddPipeline("access-logs", p => p.From("read", ct => Range(10, ct)).To("store", _ => { })),
            new Dictionary<string, string?>
            {
                ["Pipelines:access-logs:Handoff:Capacity"] = "-1",
                ["Pipelines:access-logs:Stages:store:Parallelism"] = "0",
            });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Equal(2, error.Failures.Count());
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_DesignExample_IsAccepted()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Pipelines:access-logs:Handoff:Kind"] = "Channel",
            ["Pipelines:access-logs:Handoff:Capacity"] = "1024",
            ["Pipelines:access-logs:Handoff:FullMode"] = "Wait",
            ["Pipelines:access-logs:Stages:parse:Parallelism"] = "4",
            ["Pipelines:access-logs:Stages:parse:Ordered"] = "true",
            ["Pipelines:access-logs:Stages:store:Handoff:Capacity"] = "256",
            ["Pipelines:access-logs:Stages:store:OnError"] = "DeadLetter",
            ["Pipelines:access-logs:Stages:store:Resilience:Retry:MaxRetryAttempts"] = "5",
            ["Pipelines:access-logs:Stages:store:Resilience:Retry:Delay"] = "00:00:00.2",
            ["Pipelines:access-logs:Stages:store:Resilience:Retry:BackoffType"] = "Exponential",
            ["Pipelines:access-logs:Stages:store:Resilience:Timeout"] = "00:00:05",
            ["Pipelines:access-logs:DeadLetter:Path"] = Path.Combine(Path.GetTempPath(), $"dead-letters-{Guid.NewGuid():N}", "access-logs.jsonl"),
            ["Pipelines:access-logs:DeadLetter:Durability"] = "fsync",
        };
        var sink = new RecordingSink<int>();
        using var host = BuildHost(
            services => services.AddPipeline("access-logs", p => p
                .From("read", ct => Range(10, ct))
                .Then("parse", x => x)
                .To("store", sink)),
            settings);

        await host.StartAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 10), sink.Items);
        var options = host.Services.GetRequiredService<IOptionsMonitor<PipelineOptions>>().Get("access-logs");
        Assert.Equal(StageErrorMode.DeadLetter, options.Stages["store"].OnError);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.Stages["store"].Resilience!.Retry!.Delay);
        Assert.EndsWith("access-logs.jsonl", options.DeadLetter.Path, StringComparison.Ordinal);
        Assert.Equal(DeadLetterDurability.Fsync, options.DeadLetter.Durability);
    }

    [Fact]
    public void Build_InvalidOptionsInCode_ThrowsWithTheSameMessage()
    {
        var configuration = new PipelineOptions();
        configuration.Stages["parse"] = new StageOptions { Parallelism = 0 };
        var builder = new PipelineBuilder("access-logs").From("read", ct => Range(1, ct)).Then("parse", x => x).To("store", _ => { });

        var error = Assert.Throws<OptionsValidationException>(() => builder.Build(configuration: configuration));

        Assert.Contains("Pipelines:access-logs:Stages:parse:Parallelism must be between 1 and 1024, was 0", error.Failures);
    }
    public static TheoryData<string, string> BadJson => new()
    {
        // A section where a number belongs: the message gives the allowed range.
        { """{ "Stages": { "parse": { "Parallelism": { "Min": 1 } } } }""", "Pipelines:access-logs:Stages:parse:Parallelism must be an integer between 1 and 1024, was a section with Min" },

        // A list where a stage's section belongs: the message names the key and the value.
        { """{ "Stages": { "parse": ["fast"] } }""", "Pipelines:access-logs:Stages:parse must be a section with Parallelism, Ordered, Handoff, OnError, Resilience, MaxFailures, MaxFailureRatio, FailureRatioMinimumItems, was a list (item 0: 'fast')" },
        { """{ "Handoff": { "Capacity": [1, 2] } }""", "Pipelines:access-logs:Handoff:Capacity must be an integer between 1 and 1048576, was a list: '1', '2'" },
        { """{ "Stages": { "store": { "Resilience": { "Retry": "fast" } } } }""", "Pipelines:access-logs:Stages:store:Resilience:Retry must be a section with MaxRetryAttempts, Delay, BackoffType, MaxDelay, UseJitter, was 'fast'" },

        // Values the binder would take and read as something else: an enum by number, a bare number as days.
        { """{ "Stages": { "parse": { "OnError": "2" } } }""", "Pipelines:access-logs:Stages:parse:OnError must be one of Stop, DeadLetter, Skip, was '2'" },
        { """{ "Stages": { "store": { "Resilience": { "Timeout": "5" } } } }""", "Pipelines:access-logs:Stages:store:Resilience:Timeout must be a time span such as 00:00:05, was '5'" },
        { """{ "Handoff": { "FullMode": "Wait,DropWrite" } }""", "Pipelines:access-logs:Handoff:FullMode must be one of Wait, DropNewest, DropOldest, DropWrite, was 'Wait,DropWrite'" },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(BadJson))]
    public async Task StartAsync_BadShapeInJson_FailsNamingKeyValueAndAllowedValues(string json, string expected)
    {
        using var host = BuildJsonHost(json);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Equal([expected], error.Failures);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_MalformedValueAndOutOfRangeValueInOtherParts_ReportsBoth()
    {
        using var host = BuildJsonHost("""{ "Handoff": { "Kind": "Queue" }, "Stages": { "parse": { "Parallelism": 0 } } }""");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Equal(
            [
                "Pipelines:access-logs:Handoff:Kind must be one of Condition, Semaphore, Channel, was 'Queue'",
                "Pipelines:access-logs:Stages:parse:Parallelism must be between 1 and 1024, was 0",
            ],
            error.Failures);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_ResiliencePipelineNamedWithInlineStrategy_ReportsItOnce()
    {
        using var host = BuildJsonHost("""{ "Stages": { "store": { "Resilience": { "Pipeline": "sql-store", "Retry": { "MaxRetryAttempts": 0 } } } } }""");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        var key = "Pipelines:access-logs:Stages:store:Resilience";
        Assert.Equal(
            [$"{key}:Pipeline names a registered resilience pipeline, so {key}:Retry, {key}:Timeout, {key}:RateLimit and {key}:CircuitBreaker must be unset"],
            error.Failures);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_JsonWithEverySectionOfTheDesign_BindsEachValue()
    {
        using var host = BuildJsonHost("""
            {
              "Handoff": { "Kind": "Semaphore", "Capacity": 512, "FullMode": "Wait" },
              "Stages": {
                "parse": { "Parallelism": 3, "Ordered": false },
                "store": { "Handoff": { "Capacity": 256 }, "OnError": "Skip", "MaxFailureRatio": 0.01,
                           "Resilience": { "Retry": { "MaxRetryAttempts": 5, "Delay": "00:00:00.2", "MaxDelay": "00:00:05",
                                                      "BackoffType": "Exponential", "UseJitter": true },
                                           "Timeout": "00:00:05",
                                           "CircuitBreaker": { "FailureRatio": 0.5, "MinimumThroughput": 20,
                                                               "SamplingDuration": "00:00:30", "BreakDuration": "00:00:05" },
                                           "RateLimit": { "PermitsPerSecond": 500, "Burst": 50 } } }
              },
              "Progress": { "Interval": "00:00:05" },
              "Tracing": { "SampleRatio": 0.01 }
            }
            """);

        var options = host.Services.GetRequiredService<IOptionsMonitor<PipelineOptions>>().Get("access-logs");

        Assert.Equal((HandoffKind.Semaphore, 512), (options.Handoff.Kind, options.Handoff.Capacity));
        Assert.Equal((3, false), (options.Stages["parse"].Parallelism, options.Stages["parse"].Ordered));
        var store = options.Stages["store"];
        Assert.Equal((256, StageErrorMode.Skip, 0.01), (store.Handoff.Capacity, store.OnError, store.MaxFailureRatio));
        var retry = store.Resilience!.Retry!;
        Assert.Equal((5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), Polly.DelayBackoffType.Exponential, true),
            (retry.MaxRetryAttempts, retry.Delay, retry.MaxDelay, retry.BackoffType, retry.UseJitter));
        Assert.Equal(TimeSpan.FromSeconds(5), store.Resilience.Timeout);
        var breaker = store.Resilience.CircuitBreaker!;
        Assert.Equal((0.5, 20, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5)),
            (breaker.FailureRatio, breaker.MinimumThroughput, breaker.SamplingDuration, breaker.BreakDuration));
        Assert.Equal((500, 50), (store.Resilience.RateLimit!.PermitsPerSecond, store.Resilience.RateLimit.Burst));
        Assert.Equal(TimeSpan.FromSeconds(5), options.ProgressInterval);
        Assert.Equal(0.01, options.Tracing!.SampleRatio);
    }

    private static IHost BuildJsonHost(string pipelineJson)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var json = $$"""{ "Pipelines": { "access-logs": {{pipelineJson}} } }""";
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Services.AddPipeline("access-logs", p => p
            .From("read", ct => Range(10, ct))
            .Then("parse", x => x)
            .To("store", _ => { }));
        return builder.Build();
    }
}
