namespace LogAnalytics.Tests;

/// <summary>Inputs of the same name in two folders, into one database: each keeps a checkpoint of its own.</summary>
public sealed class CheckpointPerInputTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Fact(Timeout = 240_000)]
    public async Task RunAsync_SameFileNameInTwoFolders_EachInputIsReadWholeAndResumesFromItsOwnCheckpoint()
    {
        using var folder = new TempDirectory();
        Directory.CreateDirectory(folder.File("p1"));
        Directory.CreateDirectory(folder.File("p2"));
        var full = LogGenerator.Write(folder.File("p2/access.log"), new LogGeneratorOptions { Lines = 1_000, MalformedShare = 0.01, Seed = 7 });
        var fullLines = File.ReadAllLines(full.Path);

        // The first folder's log is the start of the second's: it matches the other's fingerprint, and its offset lies inside it.
        var part = folder.File("p1/access.log");
        File.WriteAllLines(part, fullLines[..200]);
        string Db() => folder.File("db.sqlite");

        var (partExit, partRun) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, part), TextWriter.Null).WaitAsync(s_timeout);
        var (fullExit, fullRun) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, full.Path), TextWriter.Null).WaitAsync(s_timeout);
        var (partAgainExit, partAgain) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, part), TextWriter.Null).WaitAsync(s_timeout);
        var (fullAgainExit, fullAgain) = await LogAnalyticsApp.RunAsync(LogAnalyticsAppTests.Args(folder, full.Path), TextWriter.Null).WaitAsync(s_timeout);

        Assert.Equal((0, 0, 0, 0), (partExit, fullExit, partAgainExit, fullAgainExit));
        Assert.Equal((200L, 1_000L), (partRun!.Read, fullRun!.Read));
        Assert.Equal((0L, 0L), (partAgain!.Read, fullAgain!.Read));
        var malformed = full.MalformedOffsets.Count;
        var stored = LogAnalyticsAppTests.Column<long>(Db(), $"SELECT COUNT(*) FROM requests WHERE source LIKE '{full.Path}#%'").Single();
        Assert.Equal(1_000 - malformed, stored);
        Assert.NotEqual(
            LogAnalyticsSettings.InputKey(Path.GetFullPath(part)),
            LogAnalyticsSettings.InputKey(Path.GetFullPath(full.Path)));

    }
}
