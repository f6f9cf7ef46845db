using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Lifecycle;

/// <summary>Runs alone: its tests hold every thread-pool thread, which would slow every other test down.</summary>
[CollectionDefinition(nameof(StarvedPoolCollection), DisableParallelization = true)]
public sealed class StarvedPoolCollection
{
}

/// <summary>
/// A shutdown deadline met while the thread pool is starved: continuations of writes that a reader completed run late, and the
/// result must still count every item once.
/// </summary>
[Collection(nameof(StarvedPoolCollection))]
public class StarvedPoolTests
{
    [Theory(Timeout = 300_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopWithin_PoolStarvedWhileTheDeadlineTakesOver_CountsEveryItemOnce(HandoffKind kind)
    {
        for (var round = 0; round < 4; round++)
        {
            // Odd rounds put an ordered parallel stage in the middle, whose outputs leave through its reorder step.
            var ordered = round % 2 == 1;
            var store = new CancelledWhenStuckStore();
            using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(store).BuildServiceProvider();
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var run = NewPipeline(kind, capacity: 2)
                .From("src", Endless)
                .Then<int>("work", x => x, o =>
                {
                    o.Parallelism = ordered ? 2 : 1;
                    o.Ordered = ordered;
                })
                .To("sink", async (int _, CancellationToken _) =>
                {
                    busy.TrySetResult();
                    await release.Task;
                })
                .Build(services)
                .Start();
            await busy.Task.WaitAsync(Bound);

            // Every pool thread is held for a while from the moment the take-over starts, so the writers' continuations queue
            // behind the take-over's own work and run late (or after the result).
            using var gate = new ManualResetEventSlim();
            var holders = Enumerable.Range(0, ThreadPool.ThreadCount + 1)
                .Select(_ => Task.Factory.StartNew(() => gate.Wait(TimeSpan.FromSeconds(3)), TaskCreationOptions.PreferFairness))
                .ToArray();
            // The stop's own continuations queue behind the held threads too: on a loaded 2-core machine (the other test assemblies
            // run beside this one) the pool may take several seconds to add threads for them, so this bound is wider than Bound.
            var stopping = run.StopWithinAsync(TimeSpan.FromMilliseconds(400));
            var result = await stopping.WaitAsync(TimeSpan.FromSeconds(40));
            gate.Set();
            release.TrySetResult();
            await Task.WhenAll(holders).WaitAsync(Bound);

            Assert.Equal(PipelineStatus.Aborted, result.Status);
            Assert.True(result.IsAccounted, $"round {round} (ordered: {ordered}): {result}");
            Assert.True(result.InHandoffs >= 0, result.ToString());
            Assert.All(result.Stages, stage => Assert.True(stage.InFlight >= 0, result.ToString()));
        }
    }

    /// <summary>A dead-letter store that never finishes a write until its token is cancelled.</summary>
    private sealed class CancelledWhenStuckStore : IDeadLetterStore
    {
        public async ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken) =>
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
    }
}
