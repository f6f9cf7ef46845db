namespace LogAnalytics.Tests;

/// <summary>
/// What the sample checks before it reads a line: a settings file that is not JSON, and a database or dead-letter file that cannot be
/// written, end the start with <see cref="LogAnalyticsApp.StartFailedExitCode"/> and a message naming the setting; the default
/// dead-letter file lies beside the database.
/// </summary>
public sealed class StartChecksTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    private static readonly string[] s_lines =
    [
        """10.0.0.1 - - [15/Mar/2026:08:00:05 +0000] "GET /a HTTP/1.1" 200 10""",
        "not a log line",
    ];

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_StorePathIsNotADatabase_ExitsWithStartFailedAndLeavesTheFileAlone()
    {
        using var folder = new TempDirectory();
        var input = await WriteInputAsync(folder);
        var notADatabase = folder.File("notes.txt");
        await File.WriteAllTextAsync(notADatabase, new string('x', 4096));

        var (exitCode, report) = await LogAnalyticsApp.RunAsync([.. LogAnalyticsAppTests.Args(folder, input), $"--Store:Path={notADatabase}"], TextWriter.Null)
            .WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        Assert.Equal(new string('x', 4096), await File.ReadAllTextAsync(notADatabase));
        Assert.StartsWith($"Store:Path '{notADatabase}' cannot be opened for writing: ", LogAnalyticsApp.CheckStorePath(notADatabase), StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("dead.jsonl")), "Nothing was read.");
    }

    [Theory(Timeout = 120_000)]
    [InlineData("folder", "is a directory; it must name a database file")]
    [InlineData("file/db.sqlite", "is a file, not a folder")]
    public async Task RunAsync_StorePathCannotBeWritten_ExitsWithStartFailedNamingTheKey(string relative, string reason)
    {
        using var folder = new TempDirectory();
        var input = await WriteInputAsync(folder);
        Directory.CreateDirectory(folder.File("folder"));
        await File.WriteAllTextAsync(folder.File("file"), "a file");
        var store = folder.File(relative);

        var (exitCode, report) = await LogAnalyticsApp.RunAsync([.. LogAnalyticsAppTests.Args(folder, input), $"--Store:Path={store}"], TextWriter.Null)
            .WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        var problem = LogAnalyticsApp.CheckStorePath(store);
        Assert.NotNull(problem);
        Assert.StartsWith($"Store:Path '{store}' ", problem, StringComparison.Ordinal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("dead.jsonl")), "Nothing was read.");
    }

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_DeadLetterPathUnderAFile_ExitsWithStartFailedBeforeReadingALine()
    {
        using var folder = new TempDirectory();
        var input = await WriteInputAsync(folder);
        await File.WriteAllTextAsync(folder.File("file"), "a file");
        var deadLetters = folder.File("file/dead.jsonl");

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(
            [.. LogAnalyticsAppTests.Args(folder, input), $"--{LogAnalyticsApp.DeadLetterPathKey}={deadLetters}"], TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        Assert.Equal(
            $"{LogAnalyticsApp.DeadLetterPathKey} '{deadLetters}' cannot be written: '{folder.File("file")}' is a file, not a folder",
            LogAnalyticsApp.CheckDeadLetterPath(deadLetters));
        Assert.False(File.Exists(folder.File("db.sqlite")), "The dead letters are checked first: a refused start leaves no database.");

        // A path whose folders do not exist yet is checked without creating them (the store creates them, owner-only).
        Assert.Null(LogAnalyticsApp.CheckDeadLetterPath(folder.File("new/deeper/dead.jsonl")));
        Assert.False(Directory.Exists(folder.File("new")));
        Assert.Equal(["access.log", "file"], Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName).Order());
    }

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_DefaultDeadLetterPathCannotBeWritten_NamesStorePathAndTheKeyThatMovesIt()
    {
        using var folder = new TempDirectory();
        var input = await WriteInputAsync(folder);
        await File.WriteAllTextAsync(folder.File("file"), "a file");
        var store = folder.File("file/db.sqlite");
        var deadLetters = LogAnalyticsApp.DefaultDeadLetterPath(store);

        var (exitCode, report) = await LogAnalyticsApp.RunAsync([$"--Input:Path={input}", $"--Store:Path={store}", "--Logging:LogLevel:Default=Warning"], TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
        Assert.Null(report);
        Assert.Equal(
            $"Store:Path '{store}': its dead-letter file '{deadLetters}' (the default beside the database; set {LogAnalyticsApp.DeadLetterPathKey} to put it elsewhere) "
            + $"cannot be written: '{folder.File("file")}' is a file, not a folder",
            LogAnalyticsApp.CheckDeadLetterPath(deadLetters, defaultFor: store));
    }

    [Fact]
    public void CheckDeadLetterPath_FolderRefusesNewFiles_NamesTheFolderNotTheProbe()
    {
        // No process, root included, creates a regular file directly in /proc.
        var problem = LogAnalyticsApp.CheckDeadLetterPath("/proc/no-such-folder/dead.jsonl");

        Assert.NotNull(problem);
        Assert.StartsWith($"{LogAnalyticsApp.DeadLetterPathKey} '/proc/no-such-folder/dead.jsonl' cannot be written: no file can be created in '/proc' (", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(".probe", problem, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_SettingsFileIsNotJson_ExitsWithStartFailed()
    {
        using var folder = new TempDirectory();
        var input = await WriteInputAsync(folder);

        // The host reads appsettings.<environment>.json from the content root (the base directory) after appsettings.json.
        var environment = $"Broken{Guid.NewGuid():N}";
        var settingsFile = Path.Combine(AppContext.BaseDirectory, $"appsettings.{environment}.json");
        await File.WriteAllTextAsync(settingsFile, "{ \"Store\": { \"BatchSize\": 10 \"Path\": \"x.db\" } }");
        try
        {
            var (exitCode, report) = await LogAnalyticsApp.RunAsync(
                [.. LogAnalyticsAppTests.Args(folder, input), "--environment", environment], TextWriter.Null).WaitAsync(s_timeout);

            Assert.Equal(LogAnalyticsApp.StartFailedExitCode, exitCode);
            Assert.Null(report);
            Assert.False(File.Exists(folder.File("db.sqlite")), "Nothing was started.");
        }
        finally
        {
            File.Delete(settingsFile);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_NoDeadLetterPath_WritesDeadLettersBesideTheDatabaseAndReportsBothFiles()
    {
        using var folder = new TempDirectory();
        var input = await WriteInputAsync(folder);
        var store = folder.File("shop/orders.db");
        var output = new StringWriter();

        var (exitCode, report) = await LogAnalyticsApp.RunAsync(
            [$"--Input:Path={input}", $"--Store:Path={store}", "--Logging:LogLevel:Default=Warning"], output).WaitAsync(s_timeout);

        Assert.True(exitCode == 0, output.ToString());
        var expected = folder.File("shop/dead-letters/orders.jsonl");
        Assert.Equal(expected, LogAnalyticsApp.DefaultDeadLetterPath(store));
        Assert.Single(File.ReadAllLines(expected));
        Assert.NotNull(report);
        Assert.Equal(1, report.DeadLettered);
        Assert.Contains($"  database   1 requests in {store}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"  dead letters in {expected}", output.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task RunAsync_SecondRunOverTheSameDatabase_SaysItResumesFromTheCheckpoint()
    {
        using var folder = new TempDirectory();
        var input = await WriteInputAsync(folder);
        var first = new StringWriter();
        var second = new StringWriter();

        var (firstExit, _) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, input), first).WaitAsync(s_timeout);
        var (secondExit, report) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, input), second).WaitAsync(s_timeout);

        Assert.True(firstExit == 0, first.ToString());
        Assert.True(secondExit == 0, second.ToString());
        Assert.DoesNotContain("Resuming", first.ToString(), StringComparison.Ordinal);
        Assert.StartsWith($"Resuming {input} from its checkpoint {folder.File("db.sqlite")}.access.log.{LogAnalyticsSettings.InputKey(input)}.checkpoint", second.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, report!.Read);

        // Nothing read: no stage limited anything, so no bottleneck is named.
        Assert.DoesNotContain("  time       ", second.ToString(), StringComparison.Ordinal);
        Assert.Contains("  time       ", first.ToString(), StringComparison.Ordinal);
    }

    private static async Task<string> WriteInputAsync(TempDirectory folder)
    {
        var input = folder.File("access.log");
        await File.WriteAllLinesAsync(input, s_lines);
        return input;
    }
}
