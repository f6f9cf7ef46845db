using Microsoft.Extensions.Time.Testing;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Resilience;

public class StageResilienceTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Retry_TransientFailure_RetriesAndDeliversTheItem(HandoffKind kind)
    {
        var attempts = 0;
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(10, ct))
            .Then("flaky", x => x == 3 && Interlocked.Increment(ref attempts) <= 2 ? throw new TimeoutException("transient") : x,
                o => o.Resilience = new ResilienceSettings { Retry = new RetrySettings { MaxRetryAttempts = 3, Delay = TimeSpan.Zero } })
            .To("collect", sink)
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(3, attempts);
        Assert.Equal(Enumerable.Range(0, 10), sink.Items);
        Assert.Equal(0, result["flaky"].Failed);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Retry_Exhausted_FallsBackToOnError(HandoffKind kind)
    {
        var attempts = 0;
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(10, ct))
            .To("store", async (x, ct) =>
            {
                if (x == 4)
                {
                    Interlocked.Increment(ref attempts);
                    throw new IOException("disk full");
                }

                await sink.WriteAsync(x, ct);
            }, o =>
            {
                o.OnError = StageErrorMode.Skip;
                o.Resilience = new ResilienceSettings { Retry = new RetrySettings { MaxRetryAttempts = 2, Delay = TimeSpan.Zero } };
            })
            .Build();

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(3, attempts);
        Assert.Equal(1, result["store"].Failed);
        Assert.DoesNotContain(4, sink.Items);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Timeout_CallTakesTooLong_CancelsItAndSkipsTheItem(HandoffKind kind)
    {
        var time = new FakeTimeProvider();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(5, ct))
            .Then("hang-on-two", async (int x, CancellationToken ct) =>
            {
                if (x == 2)
                {
                    entered.SetResult();
                    await Task.Delay(Timeout.InfiniteTimeSpan, time, ct);
                }

                return x;
            }, o =>
            {
                o.OnError = StageErrorMode.Skip;
                o.Resilience = new ResilienceSettings { Timeout = TimeSpan.FromSeconds(5) };
            })
            .To("collect", sink)
            .Build(timeProvider: time);

        var run = pipeline.Start();
        await entered.Task.WaitAsync(Bound);
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal([0, 1, 3, 4], sink.Items);
        Assert.Equal(1, result["hang-on-two"].Failed);
        AssertAccounted(result);
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Timeout_CallIgnoresItsToken_StillTimesOutAndTheLateResultIsDiscarded(HandoffKind kind)
    {
        var time = new FakeTimeProvider();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new[] { new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var sink = new RecordingSink<int>();
        var pipeline = NewPipeline(kind)
            .From("numbers", ct => Range(2, ct))
            .Then("deaf", async (int x, CancellationToken _) =>
            {
                // Waits far longer than the timeout and never looks at its token.
                entered[x].TrySetResult();
                await release.Task;
                return x;
            }, o =>
            {
                o.OnError = StageErrorMode.Skip;
                o.Resilience = new ResilienceSettings { Timeout = TimeSpan.FromMilliseconds(100) };
            })
            .To("collect", sink)
            .Build(timeProvider: time);

        var run = pipeline.Start();
        await entered[0].Task.WaitAsync(Bound);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await entered[1].Task.WaitAsync(Bound);
        time.Advance(TimeSpan.FromMilliseconds(100));
        var result = await run.Completion.WaitAsync(Bound);
        release.TrySetResult();

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(2, result["deaf"].Failed);
        Assert.Equal(2, result["deaf"].Skipped);
        Assert.Empty(sink.Items);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task Timeout_ManyTransformIgnoringItsToken_LateOutputsDoNotLeakIntoTheRetry()
    {
        var time = new FakeTimeProvider();
        var firstAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lateAdded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        var sink = new RecordingSink<string>();
        var pipeline = NewPipeline(HandoffKind.Channel)
            .From("numbers", ct => Range(1, ct))
            .ThenMany<string>("split", async (int x, ICollection<string> output, CancellationToken _) =>
            {
                if (Interlocked.Increment(ref attempts) == 1)
                {
                    firstAttempt.TrySetResult();
                    await releaseFirst.Task;
                    output.Add("late");
                    lateAdded.TrySetResult();
                    return;
                }

                secondAttempt.TrySetResult();
                await lateAdded.Task;
                output.Add("retried");
            }, o => o.Resilience = new ResilienceSettings
            {
                Timeout = TimeSpan.FromMilliseconds(100),
                Retry = new RetrySettings { MaxRetryAttempts = 1, Delay = TimeSpan.Zero },
            })
            .To("collect", sink)
            .Build(timeProvider: time);

        var run = pipeline.Start();
        await firstAttempt.Task.WaitAsync(Bound);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await secondAttempt.Task.WaitAsync(Bound);
        releaseFirst.TrySetResult();
        var result = await run.Completion.WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(["retried"], sink.Items);
        AssertAccounted(result);
    }
}
