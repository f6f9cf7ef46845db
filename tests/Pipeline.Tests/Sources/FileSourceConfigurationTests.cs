using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Sources;

/// <summary>A file source and acknowledgement configured through <c>Pipelines:{name}</c> like every stage, and acknowledging sources from dependency injection.</summary>
public class FileSourceConfigurationTests
{
    [Fact(Timeout = 30_000)]
    public async Task FromFile_PathsInConfiguration_OverrideTheCodeAndResolveAgainstTheContentRoot()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.File("data"));
        await File.WriteAllLinesAsync(root.File("data/in.log"), Enumerable.Range(0, 50).Select(x => $"line {x}"));
        var sunk = new ConcurrentQueue<string>();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = root.Path });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pipelines:lines:Stages:read:Path"] = "data/in.log",
            ["Pipelines:lines:Stages:read:CheckpointPath"] = "state/in.checkpoint",
            ["Pipelines:lines:Stages:read:PollInterval"] = "00:00:00.050",
        });
        builder.Services.AddPipeline("lines", p => p
            .FromFile("read", o => o.Path = "/nonexistent/code-default.log")
            .To("sink", line => sunk.Enqueue(line.Text)));
        Directory.CreateDirectory(root.File("state"));
        using var host = builder.Build();

        await host.StartAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(0, 50).Select(x => $"line {x}"), sunk);
        Assert.True(File.Exists(root.File("state/in.checkpoint")), "no checkpoint at the configured path");
        Assert.False(File.Exists(root.File("data/in.log.checkpoint")), "a checkpoint beside the input, where configuration did not put it");
    }

    [Fact(Timeout = 30_000)]
    public async Task FromFile_RunAgain_ResumesAfterTheCheckpoint()
    {
        using var directory = new TempDirectory();
        var input = directory.File("in.log");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 10).Select(x => $"a{x}"));

        async Task<string[]> RunAsync()
        {
            var sunk = new ConcurrentQueue<string>();
            var pipeline = new PipelineBuilder("resume")
                .FromFile("read", o => o.Path = input)
                .To("sink", line => sunk.Enqueue(line.Text))
                .Build();
            var result = await pipeline.RunAsync().WaitAsync(Bound);
            Assert.Equal(PipelineStatus.Completed, result.Status);
            return [.. sunk];
        }

        Assert.Equal(10, (await RunAsync()).Length);
        await File.AppendAllLinesAsync(input, ["b0", "b1"]);
        Assert.Equal(["b0", "b1"], await RunAsync());
    }

    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FromFile_FaultWithNoDeadLetterStore_TheRestartReadsEveryLineNotDelivered(bool ordered)
    {
        using var directory = new TempDirectory();
        var input = directory.File("in.log");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 1000).Select(x => $"line {x}"));
        var sunk = new ConcurrentQueue<string>();

        async Task<PipelineResult> RunAsync(bool broken) => await new PipelineBuilder("refault")
            .FromFile("read", o => o.Path = input)
            .Then("parse", line => broken && line.Text == "line 100" ? throw new FormatException(line.Text) : line.Text, o =>
            {
                o.Parallelism = 2;
                o.Ordered = ordered;
            })
            .To("sink", sunk.Enqueue)
            .Build()
            .RunAsync()
            .WaitAsync(Bound);

        var faulted = await RunAsync(broken: true);
        Assert.Equal(PipelineStatus.Faulted, faulted.Status);
        Assert.DoesNotContain("line 100", sunk);

        // After the fix, the restart starts at the first line not delivered: line 100 and whatever the fault discarded.
        var fixedRun = await RunAsync(broken: false);
        Assert.Equal(PipelineStatus.Completed, fixedRun.Status);
        Assert.Equal(Enumerable.Range(0, 1000).Select(x => $"line {x}"), sunk.Distinct().Order(StringComparer.Ordinal).OrderBy(line => int.Parse(line[5..], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains("line 100", sunk);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("Stages:read:PollInterval", "00:00:00", "Pipelines:files:Stages:read:PollInterval must be between 00:00:00.0100000 and 1.00:00:00, was 00:00:00")]
    [InlineData("Stages:read:Follow", "sometimes", "Pipelines:files:Stages:read:Follow must be true or false, was 'sometimes'")]
    [InlineData("Stages:read:Folow", "true", "Pipelines:files:Stages:read:Folow is not a known setting; allowed: Path, Follow, CheckpointPath, PollInterval")]
    [InlineData("Stages:read:CheckpointPath", "/tmp/in.log", "Pipelines:files:Stages:read:CheckpointPath must be a file path other than Pipelines:files:Stages:read:Path, was '/tmp/in.log'")]
    [InlineData("Stages:read:PollInterval", "1", "Pipelines:files:Stages:read:PollInterval must be a time span such as 00:00:05, was '1'")]
    [InlineData("Stages:read:Path", "", "Pipelines:files:Stages:read:Path must be the path of a file, was ''")]
    [InlineData("Acknowledgement:MaxPending", "8", "Pipelines:files:Acknowledgement:MaxPending must be at least the largest batch size, 10 (stage 'group'), or no batch could fill; was 8.")]
    [InlineData("Acknowledgement:MaxCount", "0", "Pipelines:files:Acknowledgement:MaxCount must be 1 or more, was 0.")]
    [InlineData("Acknowledgement:MaxDelay", "00:00:00", "Pipelines:files:Acknowledgement:MaxDelay must be more than zero, was 00:00:00.")]
    [InlineData("Acknowledgement:MaxPending", "1", "Pipelines:files:Acknowledgement:MaxPending must be 2 to 1073741824, was 1.")]
    [InlineData("Acknowledgement:MaxBatch", "1", "Pipelines:files:Acknowledgement:MaxBatch is not a known setting; allowed: MaxCount, MaxDelay, MaxPending")]
    public async Task StartAsync_BadFileSourceOrAcknowledgementSetting_FailsNamingTheKey(string key, string value, string expected)
    {
        var sinkRan = false;
        using var host = BuildHost(
            services => services.AddPipeline("files", p => p
                .FromFile("read", o => o.Path = "/tmp/in.log")
                .Batch("group", 10, TimeSpan.FromSeconds(30))
                .To("sink", _ => sinkRan = true)),
            new Dictionary<string, string?> { [$"Pipelines:files:{key}"] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains(expected, error.Failures);
        Assert.False(sinkRan);
    }

    [Fact(Timeout = 30_000)]
    public async Task FromFile_CheckpointInAFolderNotMadeYet_MakesItAndResumes()
    {
        using var directory = new TempDirectory();
        var input = directory.File("in.log");
        var checkpoint = directory.File("state/deep/in.checkpoint");
        await File.WriteAllLinesAsync(input, ["a", "b", "c"]);

        var result = await new PipelineBuilder("folder")
            .FromFile("read", o =>
            {
                o.Path = input;
                o.CheckpointPath = checkpoint;
            })
            .To("sink", _ => { })
            .Build()
            .RunAsync()
            .WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.True(File.Exists(checkpoint));
    }

    [Fact(Timeout = 30_000)]
    public async Task Stop_WhileTheSourceWaitsForRoom_EndsPromptly()
    {
        // MaxPending 16 of a batch of 16 that waits 30 s for its time limit: the source waits for room until the batch is sunk.
        var progress = new SourceProgress();
        var source = new CountingSource(10_000, progress);
        var builder = new PipelineBuilder("roomless");
        builder.Acknowledgement.MaxPending = 16;
        builder.Acknowledgement.MaxCount = int.MaxValue;
        builder.Acknowledgement.MaxDelay = TimeSpan.FromHours(1);
        var run = builder
            .From("read", source)
            .Then("work", x => x, o =>
            {
                o.Parallelism = 4;
                o.Ordered = true;
            })
            .Batch("group", 16, TimeSpan.FromSeconds(30))
            .To("sink", _ => { })
            .Build()
            .Start();
        // Asked for a 17th item, the source has handed over the 16 that fill its room; the 17th then waits for room.
        await progress.WaitForTakenAsync(16, "the source to fill its room");

        var result = await run.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(PipelineStatus.Stopped, result.Status);
        AssertAccounted(result);
    }

    [Fact]
    public void Build_FileSourceWithoutAPath_FailsNamingTheKeyToSet()
    {
        var builder = new PipelineBuilder("nopath");
        builder.FromFile("read").To("sink", _ => { });

        var error = Assert.Throws<OptionsValidationException>(() => builder.Build());

        Assert.Equal(["Pipelines:nopath:Stages:read:Path must be the path of a file, was ''"], error.Failures);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcknowledgementInConfiguration_OverridesTheCode()
    {
        var source = new CountingSource(200);
        using var host = BuildHost(
            services => services
                .AddSingleton(source)
                .AddPipeline("acks", p =>
                {
                    // In code, only the final acknowledgement would ever be sent.
                    p.Acknowledgement.MaxCount = int.MaxValue;
                    p.Acknowledgement.MaxDelay = TimeSpan.FromHours(1);
                    p.FromAcknowledging<CountingSource, int>("read").To("sink", async (int x, CancellationToken ct) =>
                    {
                        // Item 100 waits for an acknowledgement of the first 50: only configuration's MaxCount sends one mid-run.
                        if (x == 100)
                        {
                            await source.WaitForAcknowledgementAsync(50);
                        }
                    });
                }),
            new Dictionary<string, string?> { ["Pipelines:acks:Acknowledgement:MaxCount"] = "1" });

        await host.StartAsync().WaitAsync(Bound);
        var result = await ServiceOf(host).Completion.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(200, source.Acknowledged.Max());
        Assert.True(source.Acknowledged.Count > 1, $"acknowledged only at {string.Join(", ", source.Acknowledged)}");
    }

    [Fact(Timeout = 30_000)]
    public async Task FromAcknowledging_ResolvesTheSourceFromTheRunsScope_AndAcknowledgesIt()
    {
        using var services = new ServiceCollection().AddScoped(_ => new CountingSource(25)).BuildServiceProvider();
        var sunk = new ConcurrentQueue<int>();
        var pipeline = new PipelineBuilder("scoped")
            .FromAcknowledging<CountingSource, int>("read")
            .To("sink", x => sunk.Enqueue(x))
            .Build(services);

        var result = await pipeline.RunAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Enumerable.Range(1, 25), sunk);
        AssertAccounted(result);
    }

    /// <summary>
    /// Yields 1..<paramref name="count"/> at positions 1..<paramref name="count"/>, records every acknowledgement, and reports to
    /// <paramref name="progress"/>, when set, as each item is asked for.
    /// </summary>
    internal sealed class CountingSource(int count, SourceProgress? progress = null) : IAcknowledgingSource<int>
    {
        private readonly ObservedQueue<long> _acknowledged = new();

        public IReadOnlyCollection<long> Acknowledged => _acknowledged;

        /// <summary>Waits until an acknowledgement reaches <paramref name="position"/>.</summary>
        public Task WaitForAcknowledgementAsync(long position) =>
            _acknowledged.WaitUntilAsync(acknowledged => acknowledged.Any(acknowledgedAt => acknowledgedAt >= position), $"an acknowledgement of {position}");

        public async IAsyncEnumerable<PositionedItem<int>> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
        {
            for (var x = 1; x <= count && !stoppingToken.IsCancellationRequested; x++)
            {
                progress?.Report(x - 1);
                if (x % 16 == 0)
                {
                    await Task.Yield();
                }

                yield return new PositionedItem<int>(x, x);
            }
        }

        public ValueTask AcknowledgeAsync(long position, CancellationToken cancellationToken)
        {
            _acknowledged.Enqueue(position);
            return default;
        }
    }
}
