using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Handoffs;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Diagnostics;

/// <summary>Sampled per-item spans: one per call of stage code, parented on the run's span or on the source item's trace context.</summary>
public class ItemTracingTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task SampleRatioOne_OneSpanPerStageCallPerItem_ChildrenOfTheRunsSpan(HandoffKind kind)
    {
        var name = $"traced-{Guid.NewGuid():N}";
        using var spans = new SpanRecorder(name);
        var builder = NewPipeline(kind, name: name);
        builder.Tracing.SampleRatio = 1;
        var seenInside = new ConcurrentQueue<string?>();
        var result = await builder
            .From("read", ct => Range(30, ct))
            .Then("double", x => x == 7 ? throw new ArgumentException("seven") : x * 2, o => { o.Parallelism = 2; o.OnError = StageErrorMode.Skip; })
            .ThenMany<int>("split", (int x, ICollection<int> output, CancellationToken _) =>
            {
                seenInside.Enqueue(Activity.Current?.DisplayName);
                output.Add(x);
                output.Add(x + 1);
                return default;
            })
            .Batch("batch", size: 10, maxDelay: TimeSpan.FromMinutes(1))
            .To("store", (IReadOnlyList<int> _) => { })
            .Build()
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        var run = Assert.Single(spans.Stopped, span => span.DisplayName == $"pipeline {name}");
        var items = spans.Stopped.Where(span => span != run).ToArray();
        Assert.Equal(30, items.Count(span => span.DisplayName == "stage double"));
        Assert.Equal(29, items.Count(span => span.DisplayName == "stage split"));
        Assert.Equal(6, items.Count(span => span.DisplayName == "stage store"));
        Assert.Equal(65, items.Length);
        Assert.All(items, span =>
        {
            Assert.Equal(run.TraceId, span.TraceId);
            Assert.Equal(run.SpanId, span.ParentSpanId);
            Assert.Equal(["pipeline.name", "pipeline.outcome", "pipeline.stage"], span.TagObjects.Select(tag => tag.Key).Order());
            Assert.Equal(span.DisplayName, $"stage {span.GetTagItem("pipeline.stage")}");
        });
        var failed = Assert.Single(items, span => Equals(span.GetTagItem("pipeline.outcome"), "failed"));
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal("stage double", failed.DisplayName);
        Assert.All(seenInside, current => Assert.Equal("stage split", current));
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task SampleRatioZero_NoItemSpans()
    {
        var name = $"untraced-{Guid.NewGuid():N}";
        using var spans = new SpanRecorder(name);
        var result = await NewPipeline(HandoffKind.Condition, name: name)
            .From("read", ct => Range(30, ct))
            .Then("double", x => x * 2)
            .To("store", _ => { })
            .Build()
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal([$"pipeline {name}"], spans.Stopped.Select(span => span.DisplayName));
    }

    [Fact(Timeout = 30_000)]
    public async Task SourceItemCarriesATraceContext_ItsSpansContinueThatTrace()
    {
        var name = $"continued-{Guid.NewGuid():N}";
        using var spans = new SpanRecorder(name);
        var producers = Enumerable.Range(0, 5).Select(_ => new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true)).ToArray();
        var builder = NewPipeline(HandoffKind.Semaphore, name: name);
        builder.Tracing.SampleRatio = 1;
        var result = await builder
            .From("read", new CarryingSource(producers))
            .Then("double", x => x * 2)
            .To("store", _ => { })
            .Build()
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        var items = spans.Stopped.Where(span => span.DisplayName.StartsWith("stage ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(10, items.Length);
        foreach (var producer in producers)
        {
            var children = items.Where(span => span.TraceId == producer.TraceId).ToArray();
            Assert.Equal(["stage double", "stage store"], children.Select(span => span.DisplayName).Order());
            Assert.All(children, span => Assert.Equal(producer.SpanId, span.ParentSpanId));
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData("SampleRatio", "1.5", "Pipelines:named:Tracing:SampleRatio must be between 0 and 1, was 1.5")]
    [InlineData("SampleRatio", "all", "Pipelines:named:Tracing:SampleRatio must be a number between 0 and 1, was 'all'")]
    [InlineData("Ratio", "0.1", "Pipelines:named:Tracing:Ratio is not a known setting; allowed: SampleRatio")]
    public async Task BadTracingSetting_FailsTheStartNamingTheKey(string key, string value, string expected)
    {
        using var host = BuildHost(
            services => services.AddPipeline("named", p => p.From("read", ct => Range(5, ct)).To("store", _ => { })),
            new Dictionary<string, string?> { [$"Pipelines:named:Tracing:{key}"] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains(expected, error.Failures);
    }

    [Fact]
    public void Build_SampleRatioOutOfRangeInCode_Throws()
    {
        var builder = new PipelineBuilder("coded");
        builder.Tracing.SampleRatio = -0.1;

        var error = Assert.Throws<ArgumentException>(() => builder.From("read", ct => Range(5, ct)).To("store", _ => { }).Build());

        Assert.Equal("Pipeline 'coded': Tracing.SampleRatio must be between 0 and 1, was -0.1", error.Message);
    }

    /// <summary>Records the spans of one pipeline (by its <c>pipeline.name</c> tag) on the <c>Pipeline</c> activity source.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;

        public SpanRecorder(string pipelineName)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Pipeline",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    if (Equals(activity.GetTagItem("pipeline.name"), pipelineName))
                    {
                        Stopped.Enqueue(activity);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public ConcurrentQueue<Activity> Stopped { get; } = new();

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>An acknowledging source whose items carry the trace context each was produced under.</summary>
    private sealed class CarryingSource(ActivityContext[] producers) : IAcknowledgingSource<int>
    {
        public async IAsyncEnumerable<PositionedItem<int>> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
        {
            for (var index = 0; index < producers.Length; index++)
            {
                await Task.Yield();
                yield return new PositionedItem<int>(index, index + 1, isReplay: false, producers[index]);
            }
        }

        public ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken) => default;
    }
}
