using System.Collections.Concurrent;
using System.Diagnostics;
using static Pipeline.Redis.Tests.RedisTestKit;

namespace Pipeline.Redis.Tests;

/// <summary>A traced item's trace crosses the stream: the consumer's spans continue the producer's.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamTracingTests(RedisServerFixture redis)
{
    [Fact(Timeout = 120_000)]
    public async Task SampledItems_ConsumerSpansContinueTheProducersTrace()
    {
        var suffix = Guid.NewGuid().ToString("N");
        var producerSpans = new ConcurrentDictionary<ActivitySpanId, Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Pipeline",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Equals(activity.GetTagItem("pipeline.name"), "produce-" + suffix) && Equals(activity.GetTagItem("pipeline.stage"), "write"))
                {
                    producerSpans[activity.SpanId] = activity;
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var options = Options(redis, "traced", o => o.TrimAcknowledged = false);

        var producer = new PipelineBuilder("produce-" + suffix) { Tracing = { SampleRatio = 1 } }
            .From("read", Enumerable.Range(1, 20))
            .To("write", new RedisStreamSink<int>(redis.Connection, options));
        var produced = await producer.Build().RunAsync().WaitAsync(Bound);
        Assert.Equal(PipelineStatus.Completed, produced.Status);

        var consumed = new ConcurrentDictionary<int, (ActivityTraceId TraceId, ActivitySpanId ParentSpanId, string? Stage)>();
        var signal = new SemaphoreSlim(0);
        var run = new PipelineBuilder("consume-" + suffix) { Tracing = { SampleRatio = 1 } }
            .FromRedisStream("read", new RedisStreamSource<int>(redis.Connection, options))
            .To("collect", (int item) =>
            {
                var current = Activity.Current!;
                consumed[item] = (current.TraceId, current.ParentSpanId, current.GetTagItem("pipeline.stage") as string);
                signal.Release();
            })
            .Build()
            .Start();
        await WaitForAsync(() => consumed.Count >= 20, signal, "20 items");
        run.RequestStop();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.True(result.IsAccounted, string.Join("; ", result.DescribeAccountingErrors()));
        Assert.Equal(20, producerSpans.Count);
        var entries = await redis.Database.StreamRangeAsync(options.Stream);
        Assert.Equal(20, entries.Length);
        foreach (var entry in entries)
        {
            var item = int.Parse(entry["item"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(ActivityContext.TryParse(entry["traceparent"].ToString(), null, out var written), $"item {item} has a traceparent");
            var producerSpan = producerSpans[written.SpanId];
            var (traceId, parentSpanId, stage) = consumed[item];

            Assert.Equal(producerSpan.TraceId, traceId);
            Assert.Equal(producerSpan.SpanId, parentSpanId);
            Assert.Equal("collect", stage);
        }

        // Each consumer span is the child of its own item's producer span (all of them in the producer run's trace).
        Assert.Equal(20, consumed.Values.Select(value => value.ParentSpanId).Distinct().Count());
    }
}
