using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Lifecycle;

public class PipelineRunStressTests
{
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RequestStop_AtRandomMoments_NeverLosesAnItem(HandoffKind kind)
    {
        var random = new Random(1234);
        for (var iteration = 0; iteration < 300; iteration++)
        {
            var received = 0L;
            var stopAfter = random.Next(0, 200);
            var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (stopAfter == 0)
            {
                flowing.SetResult();
            }

            var parallelism = random.Next(1, 4);
            var ordered = random.Next(2) == 0;
            var last = -1;
            var outOfOrder = false;
            var sinkLock = new object();
            var pipeline = NewPipeline(kind, capacity: random.Next(1, 8))
                .From("endless", Endless)
                .ThenMany("split", x => x % 3 == 0 ? [] : new[] { x }, o => { o.Parallelism = parallelism; o.Ordered = ordered; })
                .Then("increment", x => x + 1)
                .To("count", x =>
                {
                    lock (sinkLock)
                    {
                        outOfOrder |= ordered && x <= last;
                        last = x;
                    }

                    if (Interlocked.Increment(ref received) == stopAfter)
                    {
                        flowing.SetResult();
                    }
                })
                .Build();
            var run = pipeline.Start();
            await flowing.Task.WaitAsync(Bound);

            run.RequestStop();
            var result = await run.Completion.WaitAsync(Bound);

            Assert.Equal(PipelineStatus.Stopped, result.Status);
            Assert.False(outOfOrder, $"iteration {iteration}: out of order");
            var read = result["endless"].In;
            Assert.Equal(read - (read + 2) / 3, received);
            AssertAccounted(result);
        }
    }
}
