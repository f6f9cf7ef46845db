using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Builder;

public partial class DataPipelineTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task RunAsync_DroppingHandoff_CountsEveryDropAsDropped(HandoffKind kind)
    {
        var sink = new RecordingSink<int>();
        var source = new SourceProgress();
        var builder = NewPipeline(kind, capacity: 2);
        builder.Handoff.FullMode = BoundedChannelFullMode.DropOldest;
        var pipeline = builder
            .From("numbers", ct => source.Range(200, ct))
            .To("slow", sink)
            .Build();
        sink.Close();
        var run = pipeline.Start();
        await source.WaitForTakenAsync(200, "the source to finish");
        sink.Open();

        var result = await run.Completion.WaitAsync(Bound);

        Assert.True(result["slow"].Dropped > 0);
        Assert.Equal(200, result["slow"].In);
        Assert.Equal(sink.Count, result["slow"].Out);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task Build_ServicesGiven_ResolvesStageClassesForEachRun()
    {
        var services = new ServiceCollection();
        var sink = new RecordingSink<int>();
        services.AddSingleton<ISink<int>>(sink);
        using var provider = services.BuildServiceProvider();
        var pipeline = new PipelineBuilder("di")
            { Handoff = { Kind = HandoffKind.Channel } }
            .From("numbers", ct => Range(5, ct))
            .Then<AddTen, int>("add-ten")
            .To<ISink<int>>("collect")
            .Build(provider);

        await pipeline.RunAsync().WaitAsync(Bound);
        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal([10, 11, 12, 13, 14, 10, 11, 12, 13, 14], sink.Items);
        AssertAccounted(result);
    }

    [Fact(Timeout = 30_000)]
    public async Task RunAsync_ScopedStage_GetsOneScopePerRunDisposedAtTheEnd()
    {
        var services = new ServiceCollection();
        services.AddScoped<ScopedSink>();
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        var pipeline = new PipelineBuilder("scoped")
            { Handoff = { Kind = HandoffKind.Channel } }
            .From("numbers", ct => Range(3, ct))
            .To<ScopedSink>("collect")
            .Build(provider);

        await pipeline.RunAsync().WaitAsync(Bound);
        await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(2, ScopedSink.Instances.Count);
        Assert.All(ScopedSink.Instances, sink => Assert.True(sink.Disposed));
        Assert.All(ScopedSink.Instances, sink => Assert.Equal(3, sink.Count));
    }

    [Fact]
    public void Build_NoSink_Throws()
    {
        var builder = new PipelineBuilder("open");
        builder.From("numbers", ct => Range(5, ct)).Then("x", x => x);

        var error = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("no sink", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Then_DuplicateStageName_Throws()
    {
        var builder = new PipelineBuilder("dup").From("a", ct => Range(5, ct));

        Assert.Throws<ArgumentException>(() => builder.Then("A", x => x));
    }

    [Fact]
    public void Then_ParallelismOutOfRangeInCode_ThrowsNamingTheStage()
    {
        var builder = new PipelineBuilder("bad").From("a", ct => Range(5, ct));

        var error = Assert.Throws<ArgumentException>(() => builder.Then("parse", x => x, o => o.Parallelism = 0));
        Assert.Contains("Stage 'parse':Parallelism must be between 1 and 1024, was 0", error.Message, StringComparison.Ordinal);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class ScopedSink : ISink<int>, IDisposable
    {
        public ScopedSink() => Instances.Add(this);

        public static ConcurrentBag<ScopedSink> Instances { get; } = [];

        public int Count { get; private set; }

        public bool Disposed { get; private set; }

        public ValueTask WriteAsync(int item, CancellationToken cancellationToken)
        {
            Count++;
            return default;
        }

        public void Dispose() => Disposed = true;
    }

    private sealed class AddTen : ITransform<int, int>
    {
        public ValueTask<int> TransformAsync(int item, CancellationToken cancellationToken) => new(item + 10);
    }

    private sealed class FailingStart : ISink<int>, IStageLifecycle
    {
        public ValueTask StartAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("cannot open");

        public ValueTask StopAsync(CancellationToken cancellationToken) => default;

        public ValueTask WriteAsync(int item, CancellationToken cancellationToken) => default;
    }
}
