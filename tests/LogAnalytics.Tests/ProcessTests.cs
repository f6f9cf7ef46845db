using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LogAnalytics.Tests;

/// <summary>The sample as a user starts it: its own process, from another working directory.</summary>
public sealed class ProcessTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Sample_RunFromTheRepositoryRoot_LoadsItsAppSettings()
    {
        using var folder = new TempDirectory();
        var input = folder.File("access.log");
        await File.WriteAllLinesAsync(input,
        [
            """10.0.0.1 - - [15/Mar/2026:08:00:05 +0000] "GET /api/orders/5 HTTP/1.1" 200 10 "-" "curl/8.5.0" """.TrimEnd(),
            "not a log line",
        ]);
        var repositoryRoot = FindRepositoryRoot();

        // appsettings.json sets the parse stage's OnError to DeadLetter: had it not been loaded, the malformed line would
        // fault the run (the code default is Stop) and the exit code would be 1.
        var (exitCode, output) = await RunSampleAsync(repositoryRoot, LogAnalyticsAppTests.Args(folder, input));

        Assert.True(exitCode == 0, output);
        Assert.Contains("read 2 lines = stored 1 new + 0 already stored + dead-lettered 1", output, StringComparison.Ordinal);
        Assert.True(File.Exists(folder.File("dead.jsonl")));
    }

    [Fact]
    public async Task Sample_KilledMidRunAndRestarted_StoresEveryLineExactlyOnce()
    {
        using var folder = new TempDirectory();
        var log = LogGenerator.Write(folder.File("access.log"), new LogGeneratorOptions { Lines = 100_000, CommonShare = 0.2, MalformedShare = 0.005 });
        var args = LogAnalyticsAppTests.Args(folder, log.Path);
        var db = folder.File("db.sqlite");
        var checkpoint = folder.File($"db.sqlite.access.log.{LogAnalyticsSettings.InputKey(log.Path)}.checkpoint");

        using (var first = Process.Start(StartInfo(folder.Path, args))!)
        {
            _ = first.StandardOutput.ReadToEndAsync();
            _ = first.StandardError.ReadToEndAsync();

            // Kill it (SIGKILL) once some batches are committed and acknowledged (the checkpoint exists), and before it is done.
            await LogAnalyticsAppTests.WaitForDatabaseAsync(
                db,
                () => LogAnalyticsAppTests.CountRows(db) >= 500 && File.Exists(checkpoint),
                first.WaitForExitAsync(),
                "500 rows stored and checkpointed (if the first run finished first, use a larger input)");
            first.Kill();
            await first.WaitForExitAsync().WaitAsync(s_timeout);
        }

        var storedBeforeRestart = LogAnalyticsAppTests.CountRows(db);
        var expectedRows = log.Lines - log.MalformedOffsets.Count;
        Assert.InRange(storedBeforeRestart, 500, expectedRows - 1);

        var (exitCode, output) = await RunSampleAsync(folder.Path, args);

        Assert.True(exitCode == 0, output);
        Assert.Equal(expectedRows, LogAnalyticsAppTests.CountRows(db));
        var accounting = Regex.Match(output, @"read ([\d,]+) lines = stored ([\d,]+) new \+ ([\d,]+) already stored \+ dead-lettered ([\d,]+)");
        Assert.True(accounting.Success, output);
        var (read, stored, alreadyStored) = (Number(accounting, 1), Number(accounting, 2), Number(accounting, 3));

        // Every line not stored before the kill is stored now; the restart resumed at the checkpoint: it read only the lines after
        // it, so what it found already stored is at most what the first run stored past its last checkpoint.
        Assert.Equal(expectedRows - storedBeforeRestart, stored);
        Assert.True(read < log.Lines, $"The restart read {read:N0} of {log.Lines:N0} lines: it started over.");
        Assert.True(alreadyStored < storedBeforeRestart, $"The restart re-delivered {alreadyStored:N0} of the {storedBeforeRestart:N0} stored lines.");

        // Every malformed line is in the dead-letter file (a re-delivered one may be there twice), and nothing else.
        var deadOffsets = File.ReadAllLines(folder.File("dead.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("item").GetProperty("Offset").GetInt64()).ToHashSet();
        Assert.Equal(log.MalformedOffsets.Order(), deadOffsets.Order());
        LogAnalyticsAppTests.AssertAggregatesMatchRequests(db);
    }

    private static long Number(Match match, int group) => long.Parse(match.Groups[group].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    private static ProcessStartInfo StartInfo(string workingDirectory, string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LogAnalytics.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    private static async Task<(int ExitCode, string Output)> RunSampleAsync(string workingDirectory, string[] args)
    {
        using var process = Process.Start(StartInfo(workingDirectory, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(s_timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Pipeline.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }
}
