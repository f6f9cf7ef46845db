using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Pipeline.Tests.Hosting.PipelineHostedServiceTests;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Hosting;

/// <summary>Runs alone: <see cref="Environment.ExitCode"/> belongs to the whole test process, which other hosted tests also end.</summary>
[CollectionDefinition(nameof(ExitCodeCollection), DisableParallelization = true)]
public sealed class ExitCodeCollection
{
}

/// <summary>The process exit code a hosted pipeline leaves: non-zero whenever its work was not finished.</summary>
[Collection(nameof(ExitCodeCollection))]
public sealed class ExitCodeTests : IDisposable
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ExitCodeTests() => Environment.ExitCode = 0;

    public void Dispose()
    {
        _release.TrySetResult();
        Environment.ExitCode = 0;
    }

    [Fact(Timeout = 30_000)]
    public async Task Faulted_SetsFaultedExitCode()
    {
        using var host = BuildHost(services => services.AddPipeline("fragile", p => p
            .From("read", Endless)
            .Then("explode", x => x == 42 ? throw new InvalidOperationException("bad record 42") : x)
            .To("collect", _ => { })));

        await host.StartAsync().WaitAsync(Bound);
        await host.WaitForShutdownAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Faulted, (await ServiceOf(host).Completion.WaitAsync(Bound)).Status);
        Assert.Equal(PipelineHostedService.FaultedExitCode, Environment.ExitCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task AbortedAtTheShutdownDeadline_SetsAbortedExitCode()
    {
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = BuildHost(services => services.AddPipeline("slow", p => p
            .From("read", Endless)
            .To("store", async (int item, CancellationToken _) =>
            {
                stuck.TrySetResult();
                await _release.Task;
            })), shutdownTimeout: TimeSpan.FromMilliseconds(500));

        await host.StartAsync().WaitAsync(Bound);
        await stuck.Task.WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Aborted, (await ServiceOf(host).Completion.WaitAsync(Bound)).Status);
        Assert.Equal(PipelineHostedService.AbortedExitCode, Environment.ExitCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task DrainedWithinTheDeadline_LeavesTheExitCodeAtZero()
    {
        using var host = BuildHost(services => services.AddPipeline("quick", p => p
            .From("read", Endless)
            .To("store", _ => { })));

        await host.StartAsync().WaitAsync(Bound);
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(PipelineStatus.Stopped, (await ServiceOf(host).Completion.WaitAsync(Bound)).Status);
        Assert.Equal(0, Environment.ExitCode);
    }
}
