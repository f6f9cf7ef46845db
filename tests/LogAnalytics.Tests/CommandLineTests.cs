namespace LogAnalytics.Tests;

/// <summary>
/// The command line is checked before the host reads it: a word that is not a setting, a key with no value or a key under a section
/// nothing reads ends the start, naming it, instead of running the job on the default input; <c>--help</c> prints the usage.
/// </summary>
public sealed class CommandLineTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData(new[] { "--Inptu:Path=/var/log/x.log" }, "Inptu:Path is not a known setting: settings are under Input, Store, Role")]
    [InlineData(new[] { "--Stor:BatchSize=5" }, "Stor:BatchSize is not a known setting")]
    [InlineData(new[] { "Inptu:Path=x.log" }, "Inptu:Path is not a known setting")]
    [InlineData(new[] { "-x=1" }, "-x is not a known setting")]
    [InlineData(new[] { "extra-positional" }, "'extra-positional' is not a setting: settings are given as --Key=value")]
    [InlineData(new[] { "--Input:Path" }, "Input:Path has no value: give it as --Input:Path=<value>")]
    [InlineData(new[] { "--Input:Path", "--Store:Path=x.db" }, "Input:Path has no value")]
    [InlineData(new[] { "--=x" }, "'--=x' is not a known setting")]
    [InlineData(new[] { "--" }, "'--' is not a setting")]
    [InlineData(new[] { "/var/log/x.log" }, "'/var/log/x.log' is not a setting: to read that file give --Input:Path=/var/log/x.log")]
    [InlineData(new[] { "--contentRoot=/tmp" }, "contentRoot is not a known setting")]
    public void Check_NotASettingUnderAKnownSection_ThrowsNamingIt(string[] args, string message)
    {
        var exception = Assert.Throws<InvalidOperationException>(() => CommandLine.Check(args));

        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Input:Path=a.log --store:batchsize=10 --Pipelines:access-logs:Handoff:Kind=Channel")]
    [InlineData("--Input:Path a.log /Store:Path=b.db Role=all --replay-dead-letters")]
    [InlineData("--Logging:LogLevel:Default=Warning --environment=Production --shutdownTimeoutSeconds=5 --startupTimeoutSeconds=5")]
    public void Check_SettingsInEveryFormOfTheProvider_Passes(string commandLine) => CommandLine.Check(commandLine.Split(' '));

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_MisspelledSection_ExitsWithStartFailedBeforeReadingALine()
    {
        using var folder = new TempDirectory();

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(
            [$"--Store:Path={folder.File("db.sqlite")}", $"--Inptu:Path={folder.File("access.log")}"], TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        Assert.False(File.Exists(folder.File("db.sqlite")), "Nothing was stored.");
    }

    [Theory(Timeout = 120_000)]
    [InlineData("--help")]
    [InlineData("-?")]
    public async Task RunAsync_Help_PrintsTheUsageAndRunsNothing(string help)
    {
        using var folder = new TempDirectory();
        var output = new StringWriter();

        var (exitCode, report) = await LogAnalyticsApp.RunAsync([$"--Store:Path={folder.File("db.sqlite")}", help], output).WaitAsync(s_timeout);

        Assert.Equal(0, exitCode);
        Assert.Null(report);
        Assert.StartsWith("Usage: dotnet run --project samples/LogAnalytics", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("--Input:Path=<file>", output.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("db.sqlite")), "Nothing was stored.");
    }

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_InputPathIsADirectory_ExitsWithStartFailed()
    {
        using var folder = new TempDirectory();
        Directory.CreateDirectory(folder.File("logs"));

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, folder.File("logs")), TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        Assert.Equal($"Input:Path '{folder.File("logs")}' is a directory; it must name a log file", LogAnalyticsApp.CheckInputPath(folder.File("logs")));
        Assert.Equal($"Input:Path '{folder.File("none.log")}' does not exist", LogAnalyticsApp.CheckInputPath(folder.File("none.log")));
    }

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_StoppedBeforeTheHostStarts_ExitsZeroSayingNothingWasRead()
    {
        // A stop (SIGTERM, Ctrl+C, the caller's token) while the host starts cancels its start; it must end the run, not crash it.
        using var folder = new TempDirectory();
        var input = folder.File("access.log");
        await File.WriteAllTextAsync(input, """10.0.0.1 - - [15/Mar/2026:08:00:05 +0000] "GET /a HTTP/1.1" 200 10""" + "\n");
        using var stop = new CancellationTokenSource();
        await stop.CancelAsync();
        var output = new StringWriter();

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, input), output, stop.Token).WaitAsync(s_timeout);

        Assert.Equal(0, exitCode);
        Assert.Null(report);
        Assert.Contains("stopped before the pipeline started: nothing was read", output.ToString(), StringComparison.Ordinal);
    }
}
