using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Pipeline.Handoffs;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Lifecycle;

/// <summary>Host shutdown within <c>HostOptions.ShutdownTimeout</c>: nothing lost, nothing hidden, whatever stage code does.</summary>
public sealed class ShutdownDeadlineTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"pipeline-shutdown-{Guid.NewGuid():N}");

    /// <summary>Released when the test ends, so stage code that ignores its token does not outlive the test.</summary>
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        _release.TrySetResult();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A stage released above may still hold the file for a moment; the temporary folder is cleaned up by the system.
        }
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopAsync_SinkStuckIgnoringItsToken_ReturnsWithinTheDeadlineAndDeadLettersEveryItemNotSunk(HandoffKind kind)
    {
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sunk = new List<int>();
        var result = await RunAndStopAsync(kind, TimeSpan.FromSeconds(1), async item =>
        {
            if (item == 10)
            {
                stuck.TrySetResult();
                await _release.Task;
            }

            lock (sunk)
            {
                sunk.Add(item);
            }
        }, stuck.Task, sunk);

        Assert.Equal(10, result.Sunk);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopAsync_SinkStuckWithFsyncAndFullWideHandoffs_StillDeadLettersEveryItemNotSunkWithinTheDeadline(HandoffKind kind)
    {
        // Hundreds of items wait at the deadline, each to be synced to disk: they are handed to the store in groups, one fsync
        // each, early enough for every one to be on disk by the deadline.
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sunk = new List<int>();
        var result = await RunAndStopAsync(kind, TimeSpan.FromSeconds(2), async item =>
        {
            if (item == 10)
            {
                stuck.TrySetResult();
                await _release.Task;
            }

            lock (sunk)
            {
                sunk.Add(item);
            }
        }, stuck.Task, sunk, durability: "Fsync", capacity: 256, parallelism: 4);

        Assert.Equal(10, result.Sunk);
        Assert.True(result.DeadLettered > 250, result.ToString());
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopAsync_SlowSink_ReturnsWithinTheDeadlineAndDeadLettersEveryItemNotSunk(HandoffKind kind)
    {
        // A sink that keeps writing while the host stops, but too slowly to drain, and deaf to its token: each write waits for a
        // permit. It writes two items before the stop and three during it, then waits past the 300 ms deadline, which must hold.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sunk = new List<int>();
        using var permits = new SemaphoreSlim(2);
        try
        {
            var result = await RunAndStopAsync(kind, TimeSpan.FromMilliseconds(300), async item =>
            {
                started.TrySetResult();
                await permits.WaitAsync();
                lock (sunk)
                {
                    sunk.Add(item);
                }
            }, started.Task, sunk, onStopping: () => permits.Release(3));

            Assert.Equal(5, result.Sunk);
        }
        finally
        {
            permits.Release(1_000);
        }
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task StopWithinAsync_OrderedWorkerStuckIgnoringItsToken_GivesUpEveryItemNotSunk(HandoffKind kind)
    {
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var letters = new System.Collections.Concurrent.ConcurrentQueue<DeadLetter>();
        using var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection()
            .AddSingleton<IDeadLetterStore>(new ListStore(letters))
            .BuildServiceProvider();
        var sink = new RecordingSink<int>();
        var run = NewPipeline(kind, capacity: 8)
            .From("read", Endless)
            .Then<int>("work", async (x, _) =>
            {
                if (x == 20)
                {
                    stuck.TrySetResult();
                    await _release.Task;
                }

                return x;
            }, o =>
            {
                o.Parallelism = 3;
                o.Ordered = true;
            })
            .To("sink", sink)
            .Build(services)
            .Start();
        await stuck.Task.WaitAsync(Bound);

        var result = await run.StopWithinAsync(TimeSpan.FromMilliseconds(500)).WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Aborted, result.Status);
        var deadIds = letters.Select(letter => (int)letter.Item!).ToArray();
        Assert.Contains(20, deadIds);
        Assert.True(Enumerable.Range(0, (int)result.Yielded).SequenceEqual(deadIds.Concat(sink.Items).Order()), result.ToString());
        AssertAccounted(result);
    }

    private sealed class ListStore(System.Collections.Concurrent.ConcurrentQueue<DeadLetter> letters) : IDeadLetterStore
    {
        public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
        {
            letters.Enqueue(deadLetter);
            return default;
        }
    }

    /// <summary>
    /// Runs source → transform → sink in a host with a dead-letter file, stops the host once <paramref name="sinkBusy"/> completes,
    /// and checks the deadline, the file and the accounting. <paramref name="onStopping"/> runs once the stop has begun, while the host drains.
    /// </summary>
    private async Task<PipelineResult> RunAndStopAsync(
        HandoffKind kind, TimeSpan shutdownTimeout, Func<int, Task> sink, Task sinkBusy, List<int> sunk, string durability = "Flush", int capacity = 8, int parallelism = 1,
        Action? onStopping = null)
    {
        var path = Path.Combine(_directory, "dead.jsonl");
        var source = new SourceProgress();
        using var host = BuildHost(
            services => services.AddPipeline("deadline", p => p
                .From("read", source.Endless)
                .Then("parse", x => x, o =>
                {
                    o.Parallelism = parallelism;
                    o.Ordered = parallelism > 1;
                })
                .To("store", (int item, CancellationToken _) => new ValueTask(sink(item)))),
            new Dictionary<string, string?>
            {
                ["Pipelines:deadline:Handoff:Kind"] = kind.ToString(),
                ["Pipelines:deadline:Handoff:Capacity"] = capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Pipelines:deadline:DeadLetter:Path"] = path,
                ["Pipelines:deadline:DeadLetter:Durability"] = durability,
            },
            shutdownTimeout);
        await host.StartAsync().WaitAsync(Bound);
        await sinkBusy.WaitAsync(Bound);
        await source.WaitForTakenAsync(Math.Min(2 * capacity, 1000), "the handoffs to fill");

        var stopwatch = Stopwatch.StartNew();
        var stopping = host.StopAsync();
        onStopping?.Invoke();
        await stopping.WaitAsync(Bound);
        var elapsed = stopwatch.Elapsed;
        int[] sunkNow;
        lock (sunk)
        {
            sunkNow = [.. sunk];
        }

        var lines = File.ReadAllLines(path);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);

        Assert.True(elapsed < shutdownTimeout + TimeSpan.FromSeconds(1), $"StopAsync took {elapsed}, deadline {shutdownTimeout}");
        Assert.Equal(PipelineStatus.Aborted, result.Status);
        var deadLettered = lines.Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        Assert.All(deadLettered, letter => Assert.Equal("ShutdownTimeout", letter.GetProperty("reason").GetString()));
        var deadIds = deadLettered.Select(letter => letter.GetProperty("item").GetInt32()).ToArray();
        Assert.Equal(deadIds.Length, deadIds.Distinct().Count());
        // Only the item in the sink's hands at the deadline can be both: the engine gave it up, and the sink, deaf to its token,
        // may still finish writing it (at least once, never lost).
        Assert.True(deadIds.Intersect(sunkNow).Count() <= 1, $"sunk and dead-lettered: {string.Join(", ", deadIds.Intersect(sunkNow))}");
        Assert.True(Enumerable.Range(0, (int)result.Yielded).SequenceEqual(deadIds.Union(sunkNow).Order()), $"{deadIds.Length} dead-lettered and {sunkNow.Length} sunk of {result}");
        Assert.Equal(result.DeadLettered, deadIds.Length);
        Assert.Equal(result.Sunk, sunkNow.Length - deadIds.Intersect(sunkNow).Count());
        AssertAccounted(result);
        return result;
    }
}
