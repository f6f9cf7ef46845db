using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Pipeline.Handoffs;

namespace Pipeline.Tests;

/// <summary>Sources, sinks and assertions shared by the engine tests.</summary>
internal static class TestStages
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static TheoryData<HandoffKind> AllKinds => new() { HandoffKind.Condition, HandoffKind.Semaphore, HandoffKind.Channel };

    public static PipelineBuilder NewPipeline(HandoffKind kind, int capacity = 16, string name = "test")
    {
        var builder = new PipelineBuilder(name);
        builder.Handoff.Kind = kind;
        builder.Handoff.Capacity = capacity;
        return builder;
    }

    /// <summary>Yields 0..count-1.</summary>
    public static IAsyncEnumerable<int> Range(int count, CancellationToken cancellationToken = default) =>
        SourceProgress.Count(count, progress: null, cancellationToken);

    /// <summary>Yields 0, 1, 2, ... until the token is cancelled.</summary>
    public static IAsyncEnumerable<int> Endless(CancellationToken cancellationToken = default) =>
        SourceProgress.Count(count: null, progress: null, cancellationToken);

    /// <summary>Asserts the accounting identity for every stage, and that each stage received what its upstream produced.</summary>
    public static void AssertAccounted(PipelineResult result)
    {
        Assert.True(result.IsAccounted, $"Not accounted: {string.Join("; ", result.DescribeAccountingErrors())} in {result}");
        Assert.Equal(0, result.InFlight);
        Assert.Equal(0, result.InHandoffs);
        foreach (var stage in result.Stages)
        {
            Assert.True(stage.IsBalanced, $"Unbalanced: {stage}");
        }

        for (var index = 1; index < result.Stages.Count; index++)
        {
            Assert.Equal(result.Stages[index - 1].Produced, result.Stages[index].In);
        }
    }
}

/// <summary>A sink that records what it receives, can be held shut, and can fail on chosen items.</summary>
internal sealed class RecordingSink<T> : ISink<T>
{
    private readonly ObservedQueue<T> _items = new();
    private readonly ObservedQueue<T> _held = new();
    private volatile TaskCompletionSource? _gate;

    public IReadOnlyCollection<T> Items => _items;

    public int Count => _items.Count;

    /// <summary>Waits until the sink has taken at least <paramref name="count"/> items (see <see cref="ObservedQueue{T}.WaitUntilAsync"/>).</summary>
    public Task WaitForCountAsync(int count, string what) => _items.WaitForCountAsync(count, what);

    /// <summary>Waits until at least <paramref name="count"/> writes have reached the closed gate (see <see cref="Close"/>).</summary>
    public Task WaitForHeldAsync(int count, string what) => _held.WaitForCountAsync(count, what);

    /// <summary>Makes every following write wait until <see cref="Open"/>.</summary>
    public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate?.TrySetResult();

    public async ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        if (_gate is { } gate)
        {
            _held.Enqueue(item);
            await gate.Task.WaitAsync(cancellationToken);
        }

        _items.Enqueue(item);
    }
}

/// <summary>A stage object that records when its hooks run.</summary>
internal sealed class HookRecorder(ObservedQueue<string> events, string name, Task? startGate = null)
    : ISink<int>, ITransform<int, int>, ISource<int>, IStageLifecycle
{
    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        events.Enqueue($"start:{name}");
        if (startGate is not null)
        {
            await startGate.WaitAsync(cancellationToken);
        }
    }

    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        events.Enqueue($"stop:{name}");
        return default;
    }

    public ValueTask WriteAsync(int item, CancellationToken cancellationToken) => default;

    public ValueTask<int> TransformAsync(int item, CancellationToken cancellationToken) => new(item);

    public async IAsyncEnumerable<int> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        events.Enqueue($"read:{name}");
        for (var i = 0; i < 3; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }
}
