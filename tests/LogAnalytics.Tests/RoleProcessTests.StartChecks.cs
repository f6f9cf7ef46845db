namespace LogAnalytics.Tests;

/// <summary>A consumer's start checks the dead-letter file it writes: a file of its own beside <c>DeadLetter:Path</c>.</summary>
public sealed partial class RoleProcessTests
{
    [Fact(Timeout = 60_000)]
    public async Task Consumer_SharedDeadLetterPathIsAFolder_StartsSinceItWritesAFileOfItsOwn()
    {
        using var folder = new TempDirectory();
        Directory.CreateDirectory(folder.File("dead.jsonl"));
        var output = new FirstLineWriter();
        using var stop = new CancellationTokenSource();

        var run = LogAnalyticsApp.RunAsync(ConsumerArgs(folder), output, stop.Token);
        await Task.WhenAny(output.FirstLine, run).WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        var (exitCode, report) = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, output.ToString());
        Assert.NotNull(report);
        Assert.Null(LogAnalyticsApp.CheckDeadLetterPath(LogAnalyticsApp.ConsumerDeadLetterPath(folder.File("dead.jsonl"), "c1")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Consumer_ItsOwnDeadLetterPathIsAFolder_ExitsWithStartFailed()
    {
        using var folder = new TempDirectory();
        var own = LogAnalyticsApp.ConsumerDeadLetterPath(folder.File("dead.jsonl"), "c1");
        Directory.CreateDirectory(own);

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(ConsumerArgs(folder), TextWriter.Null).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        Assert.Equal($"{LogAnalyticsApp.DeadLetterPathKey} '{own}' is a directory; it must name a file", LogAnalyticsApp.CheckDeadLetterPath(own));
    }

    private string[] ConsumerArgs(TempDirectory folder) =>
    [
        "--Role=consumer", "--Logging:LogLevel:Default=Warning", "--Pipelines:access-logs:Progress:Interval=00:00:00.100",
        $"--Store:Path={folder.File("db.sqlite")}",
        $"--Pipelines:access-logs:DeadLetter:Path={folder.File("dead.jsonl")}",
        $"--Pipelines:access-logs:Redis:ConnectionString={redis.ConnectionString}",
        $"--Pipelines:access-logs:Redis:Stream=start-checks-{Guid.NewGuid():N}",
        "--Pipelines:access-logs:Redis:Consumer=c1",
    ];

    /// <summary>Collects the output and completes <see cref="FirstLine"/> at its first line (a consumer's first progress line: it runs).</summary>
    private sealed class FirstLineWriter : StringWriter
    {
        private readonly TaskCompletionSource _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstLine => _firstLine.Task;

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            _firstLine.TrySetResult();
        }
    }
}
