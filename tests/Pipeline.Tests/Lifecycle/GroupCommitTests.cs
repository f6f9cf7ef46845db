using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Lifecycle;

/// <summary>
/// Items given up in numbers (a fault, an abort, a shutdown deadline) reach a dead-letter store that commits in groups (one flush
/// or fsync for all lines waiting) together, not one commit per item: a slow disk must not turn hundreds of items into hundreds
/// of sequential syncs and miss the deadline.
/// </summary>
public sealed class GroupCommitTests : IDisposable
{
    /// <summary>How often the store below commits: slow enough that one commit per item could never fit in the tests' bounds.</summary>
    private static readonly TimeSpan s_commitInterval = TimeSpan.FromMilliseconds(50);

    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose() => _release.TrySetResult();

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopWithinAsync_SinkStuckBehindOrderedParallelStage_GroupCommitsEveryItemWithinTheDeadline(HandoffKind kind)
    {
        // Up to 256 inputs wait in the ordered stage's lanes behind the stuck sink; one 50 ms commit each would take 3 s per lane.
        using var store = new GroupCommitStore(s_commitInterval);
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(store).BuildServiceProvider();
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sink = new RecordingSink<int>();
        var source = new SourceProgress();
        var run = NewPipeline(kind, capacity: 256)
            .From("read", source.Endless)
            .Then("parse", x => x, o =>
            {
                o.Parallelism = 4;
                o.Ordered = true;
            })
            .To("store", async (int item, CancellationToken _) =>
            {
                if (item == 10)
                {
                    stuck.TrySetResult();
                    await _release.Task;
                }

                await sink.WriteAsync(item, CancellationToken.None);
            })
            .Build(services)
            .Start();
        await stuck.Task.WaitAsync(Bound);
        await source.WaitForTakenAsync(900, "the handoffs and lanes to fill");

        var stopwatch = Stopwatch.StartNew();
        var result = await run.StopWithinAsync(TimeSpan.FromSeconds(2)).WaitAsync(Bound);

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"took {stopwatch.Elapsed}");
        Assert.Equal(PipelineStatus.Aborted, result.Status);
        AssertAccounted(result);
        Assert.Equal(0, result.Abandoned);
        var deadIds = store.Committed.Select(letter => (int)letter.Item!).ToArray();
        Assert.True(
            Enumerable.Range(0, (int)result.Yielded).SequenceEqual(deadIds.Concat(sink.Items).Order()),
            $"{deadIds.Length} dead-lettered, {sink.Items.Count} sunk of {result}");
        Assert.True(store.Commits < 40, $"{store.Commits} commits for {deadIds.Length} dead letters");
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Fault_WithHundredsOfItemsWaiting_DiscardsThemInGroupCommits(HandoffKind kind)
    {
        using var store = new GroupCommitStore(s_commitInterval);
        using var services = new ServiceCollection().AddSingleton<IDeadLetterStore>(store).BuildServiceProvider();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fail = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = new SourceProgress();
        var run = NewPipeline(kind, capacity: 256)
            .From("read", ct => source.Range(2_000, ct))
            .Then("parse", x => x)
            .To("store", async (int item, CancellationToken ct) =>
            {
                waiting.TrySetResult();
                await fail.Task.WaitAsync(ct);
                throw new InvalidOperationException("store down");
            })
            .Build(services)
            .Start();
        await waiting.Task.WaitAsync(Bound);
        await source.WaitForTakenAsync(500, "items to wait in the handoffs");

        var stopwatch = Stopwatch.StartNew();
        fail.TrySetResult();
        var result = await run.Completion.WaitAsync(Bound);

        // One 50 ms commit per discarded item would take tens of seconds.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        Assert.Equal(PipelineStatus.Faulted, result.Status);
        AssertAccounted(result);
        Assert.True(result.DeadLettered >= 400, result.ToString());
        Assert.True(store.Commits < 50, $"{store.Commits} commits for {store.Committed.Count} dead letters");
    }

    /// <summary>A dead-letter store that commits every write waiting at each tick of a timer, as a group-committing file does.</summary>
    private sealed class GroupCommitStore : IDeadLetterStore, IDisposable
    {
        private readonly List<(DeadLetter Letter, TaskCompletionSource Done)> _pending = [];
        private readonly Timer _timer;
        private int _commits;

        public GroupCommitStore(TimeSpan interval) => _timer = new Timer(_ => Commit(), null, interval, interval);

        public ConcurrentQueue<DeadLetter> Committed { get; } = new();

        public int Commits => Volatile.Read(ref _commits);

        public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_pending)
            {
                _pending.Add((deadLetter, done));
            }

            return new ValueTask(done.Task);
        }

        public void Dispose()
        {
            _timer.Dispose();
            Commit();
        }

        private void Commit()
        {
            (DeadLetter Letter, TaskCompletionSource Done)[] group;
            lock (_pending)
            {
                group = [.. _pending];
                _pending.Clear();
            }

            if (group.Length == 0)
            {
                return;
            }

            Interlocked.Increment(ref _commits);
            foreach (var (letter, done) in group)
            {
                Committed.Enqueue(letter);
                done.TrySetResult();
            }
        }
    }
}
