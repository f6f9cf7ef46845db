using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Xunit.Abstractions;
using Pipeline.Handoffs;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// Every kind on a starved thread pool and under the engine's widest fan-out: the shapes where a handoff that waits
/// for a party that is not running (a lock or permit handed to a parked continuation) stalls or livelocks.
/// </summary>
[Collection(nameof(HandoffConformanceCollection))]
public sealed class HandoffPressureTests(ITestOutputHelper output)
{
    /// <summary>Items per producer in the pressure process (8 producers).</summary>
    private const int PressureItemsPerProducer = 25_000;

    [Theory(Timeout = 180_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task EightByEight_PoolLimitedToFourThreads_FinishesWithinTwentyTimesBcl(HandoffKind kind)
    {
        string childPath = Path.Combine(AppContext.BaseDirectory, "HandoffPressure.dll");
        Assert.True(File.Exists(childPath), $"HandoffPressure.dll is missing next to the test assembly: {childPath}");

        (int exitCode, string output) = await RunChildAsync(childPath, kind, TimeSpan.FromSeconds(150));

        Assert.True(exitCode == 0, $"HandoffPressure {kind} exited with {exitCode}:\n{output}");
        Dictionary<string, string> values = output.Trim().Split(' ')
            .Select(pair => pair.Split('='))
            .ToDictionary(pair => pair[0], pair => pair[1]);
        double bclMilliseconds = double.Parse(values["bcl"], CultureInfo.InvariantCulture);
        double kindMilliseconds = double.Parse(values["kind"], CultureInfo.InvariantCulture);
        double limit = Math.Max(20 * bclMilliseconds, 1000);
        Assert.True(kindMilliseconds <= limit, $"{kind} took {kindMilliseconds:F1} ms on a 4-thread pool, the BCL channel {bclMilliseconds:F1} ms.");
    }

    [Theory(Timeout = 300_000)]
    [MemberData(nameof(AllKinds), MemberType = typeof(TestStages))]
    public async Task Engine_ParallelismEight_FinishesWithinTwiceTheChannelKind(HandoffKind kind)
    {
        // Best of five runs each, interleaved, so that a burst of load on the shared machine does not decide; a
        // livelock (the Semaphore kind took over 90 s here) fails every run.
        TimeSpan channelTime = TimeSpan.MaxValue;
        TimeSpan kindTime = TimeSpan.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            channelTime = Min(channelTime, await RunEngineAsync(HandoffKind.Channel));
            kindTime = Min(kindTime, await RunEngineAsync(kind));
        }

        // Within 2x in an optimized build. A Debug build (the README's dotnet test) runs the custom kinds unoptimized
        // against the always-optimized BCL channel, measured at 2-3.5x on a loaded 2-core machine, so it is held to
        // 5x there; a livelock (over 90 s, 500x) fails either way. A small absolute allowance covers timer and
        // scheduling noise on runs of a fraction of a second.
        bool optimized = typeof(Handoff).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        TimeSpan limit = ((optimized ? 2 : 5) * channelTime) + TimeSpan.FromMilliseconds(100);
        output.WriteLine($"{kind}: {kindTime.TotalMilliseconds:F0} ms, Channel kind: {channelTime.TotalMilliseconds:F0} ms");
        Assert.True(kindTime <= limit, $"{kind}: {kindTime.TotalMilliseconds:F0} ms against {channelTime.TotalMilliseconds:F0} ms for the Channel kind.");
    }

    private static TimeSpan Min(TimeSpan left, TimeSpan right) => left < right ? left : right;

    private static async Task<TimeSpan> RunEngineAsync(HandoffKind kind)
    {
        const int Items = 300_000;
        long sum = 0;
        long count = 0;
        var pipeline = NewPipeline(kind, capacity: 64)
            .From("numbers", ct => Range(Items, ct))
            .Then("increment", x => x + 1, o => { o.Parallelism = 8; o.Ordered = false; })
            .To("sum", x =>
            {
                Interlocked.Add(ref sum, x);
                Interlocked.Increment(ref count);
            }, o => o.Parallelism = 8)
            .Build();

        Stopwatch elapsed = Stopwatch.StartNew();
        PipelineResult result = await pipeline.RunAsync().WaitAsync(TimeSpan.FromSeconds(40));
        elapsed.Stop();

        Assert.Equal(PipelineStatus.Completed, result.Status);
        Assert.Equal(Items, Interlocked.Read(ref count));
        Assert.Equal((long)Items * (Items + 1) / 2, Interlocked.Read(ref sum));
        return elapsed.Elapsed;
    }

    /// <summary>
    /// The primitive under the handoffs' cousin, <c>BoundedQueue</c>: its calls that do not wait must not wait for an asynchronous
    /// put queued for its lock on a pool whose threads are all busy (they did, for ever, before its lock was only ever taken by
    /// running callers). The child process (<c>HandoffPressure queue</c>) holds both threads of a 2-thread pool.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task BoundedQueue_CallsThatDoNotWait_OnABusyPool_NeverWaitForAQueuedAsynchronousPut()
    {
        string childPath = Path.Combine(AppContext.BaseDirectory, "HandoffPressure.dll");

        (int exitCode, string output) = await RunChildAsync(childPath, ["queue"], TimeSpan.FromSeconds(150));

        Assert.True(exitCode == 0, $"HandoffPressure queue exited with {exitCode}:\n{output}");
        Assert.StartsWith("longest=", output.Trim(), StringComparison.Ordinal);
    }

    private static Task<(int ExitCode, string Output)> RunChildAsync(string childPath, HandoffKind kind, TimeSpan timeout) =>
        RunChildAsync(childPath, [kind.ToString(), PressureItemsPerProducer.ToString(CultureInfo.InvariantCulture)], timeout);

    private static async Task<(int ExitCode, string Output)> RunChildAsync(string childPath, string[] arguments, TimeSpan timeout)
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        var startInfo = new ProcessStartInfo(string.IsNullOrEmpty(host) ? "dotnet" : host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        startInfo.ArgumentList.Add(childPath);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["DOTNET_ThreadPool_MaxThreads"] = "4";

        // The child sets its own pool limits; a limit forced on this process (DOTNET_ThreadPool_Force*) would override them.
        startInfo.Environment.Remove("DOTNET_ThreadPool_ForceMinWorkerThreads");
        startInfo.Environment.Remove("DOTNET_ThreadPool_ForceMaxWorkerThreads");

        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start HandoffPressure.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"HandoffPressure {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s.\nstdout so far:\n{await output}");
        }

        string errorText = await errors;
        return (process.ExitCode, errorText.Length == 0 ? await output : $"{await output}\nstderr:\n{errorText}");
    }
}
