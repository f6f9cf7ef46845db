using System.Collections.Concurrent;
using System.Diagnostics;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Diagnostics;

public class PipelineActivityTests
{
    [Fact(Timeout = 30_000)]
    public async Task Run_WithListener_RecordsOneActivityWithTheOutcome()
    {
        var name = $"traced-{Guid.NewGuid():N}";
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Pipeline",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.DisplayName == $"pipeline {name}")
                {
                    stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var caller = new Activity("caller").Start();
        var pipeline = new PipelineBuilder(name) { Handoff = { Kind = HandoffKind.Channel } }
            .From("read", ct => Range(10, ct))
            .To("store", (int x, CancellationToken ct) => Activity.Current?.DisplayName == $"pipeline {name}" ? default : throw new InvalidOperationException("no run activity"))
            .Build();

        var run = pipeline.Start();
        Assert.Same(caller, Activity.Current);
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        var activity = Assert.Single(stopped);
        Assert.Equal("Completed", activity.GetTagItem("pipeline.status"));
        Assert.Equal(caller.SpanId, activity.ParentSpanId);
        Assert.Equal(10, result["store"].Out);
        Assert.Equal(name, activity.GetTagItem("pipeline.name"));
        Assert.DoesNotContain(activity.TagObjects, tag => tag.Key.StartsWith("pipeline.stage.", StringComparison.Ordinal));
        var events = activity.Events.Where(e => e.Name == "pipeline.stage.ended").ToArray();
        Assert.Equal(["read", "store"], events.Select(e => e.Tags.Single(t => t.Key == "pipeline.stage").Value));
        Assert.Equal(10L, events[1].Tags.Single(t => t.Key == "pipeline.items.processed").Value);
    }
}
