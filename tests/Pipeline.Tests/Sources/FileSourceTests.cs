using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Sources;

public sealed partial class FileSourceTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private FileSource NewSource(string path, bool follow = false, string? checkpointPath = null)
        => new(new FileSourceOptions { Path = path, Follow = follow, CheckpointPath = checkpointPath, PollInterval = TimeSpan.FromMilliseconds(50) });

    /// <summary>
    /// Follows "in.log" holding "old-1", renames it to "in.log.1" and starts a new "in.log" holding <paramref name="newFile"/>. Once the
    /// source first sees the path name the new file (its <c>FileRotationSeen</c> log event) and waits for the renamed file to go quiet
    /// (2 s, far longer than a test takes to act), runs <paramref name="afterSeen"/> with the path. Returns the texts of the first
    /// <paramref name="lines"/> lines read, whose positions must strictly increase.
    /// </summary>
    private async Task<List<string>> FollowThroughRotationAsync(string newFile, int lines, Func<string, Task> afterSeen)
    {
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "old-1\n");
        using var stop = new CancellationTokenSource();
        var logger = new RotationSignal();
        var source = new FileSource(new FileSourceOptions { Path = path, Follow = true, PollInterval = TimeSpan.FromSeconds(2) }, logger);
        await using var reading = source.ReadAsync(stop.Token).GetAsyncEnumerator();
        var read = new List<PositionedItem<FileLine>> { await NextAsync(reading) };

        var next = NextAsync(reading);
        File.Move(path, path + ".1");
        await File.WriteAllTextAsync(path, newFile);
        await logger.Seen.WaitAsync(Bound);
        await afterSeen(path);

        read.Add(await next);
        while (read.Count < lines)
        {
            read.Add(await NextAsync(reading));
        }

        Assert.True(read.Zip(read.Skip(1)).All(pair => pair.First.Position < pair.Second.Position), "positions strictly increase");
        return read.Select(line => line.Item.Text).ToList();
    }

    private sealed class RotationSignal : ILogger<FileSource>
    {
        private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _switched = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the source first sees the path name a new file.</summary>
        public Task Seen => _seen.Task;

        /// <summary>Completes when the source moves on to the new file.</summary>
        public Task Switched => _switched.Task;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == "FileRotationSeen")
            {
                _seen.TrySetResult();
            }
            else if (eventId.Name == "FileRotated")
            {
                _switched.TrySetResult();
            }
        }
    }

    private static async Task<List<PositionedItem<FileLine>>> ReadAllAsync(FileSource source)
        => await source.ReadAsync(CancellationToken.None).ToListAsync().AsTask().WaitAsync(Bound);

    private static async Task<PositionedItem<FileLine>> NextAsync(IAsyncEnumerator<PositionedItem<FileLine>> lines)
    {
        Assert.True(await lines.MoveNextAsync().AsTask().WaitAsync(Bound));
        return lines.Current;
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_File_LinesWithOffsetsAndPositions()
    {
        var path = _directory.File("in.log");
        await File.WriteAllBytesAsync(path, [.. Encoding.UTF8.Preamble, .. "zoë\r\n\nnaïve 日本\nlast"u8]);

        var lines = await ReadAllAsync(NewSource(path));

        Assert.Equal(["zoë", "", "naïve 日本", "last"], lines.Select(l => l.Item.Text));
        Assert.Equal([0L, 9, 10, 24], lines.Select(l => l.Item.StartOffset));
        Assert.Equal([9L, 10, 24, 28], lines.Select(l => l.Item.EndOffset));
        Assert.Equal(lines.Select(l => l.Item.EndOffset), lines.Select(l => l.Position));
        Assert.All(lines, l => Assert.False(l.IsReplay));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_AfterAcknowledgement_RestartResumesAfterIt()
    {
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "one\ntwo\nthree\nfour\n");
        var first = NewSource(path);
        var lines = await ReadAllAsync(first);

        await first.AcknowledgeAsync(lines[1].Position, CancellationToken.None);
        var resumed = await ReadAllAsync(NewSource(path));

        Assert.Equal(path + ".checkpoint", first.CheckpointPath);
        Assert.Equal(["three", "four"], resumed.Select(l => l.Item.Text));
        Assert.Equal(lines[2].Position, resumed[0].Position);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_CheckpointOfAnotherFile_ReadsFromTheStart()
    {
        var path = _directory.File("in.log");
        var checkpoint = _directory.File("state/in.checkpoint");
        Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
        await File.WriteAllTextAsync(path, "one\ntwo\nthree\n");
        var first = NewSource(path, checkpointPath: checkpoint);
        var lines = await ReadAllAsync(first);
        await first.AcknowledgeAsync(lines[1].Position, CancellationToken.None);

        await File.WriteAllTextAsync(path, "uno\ndos\ntres\ncuatro\n");
        var again = await ReadAllAsync(NewSource(path, checkpointPath: checkpoint));

        Assert.Equal(["uno", "dos", "tres", "cuatro"], again.Select(l => l.Item.Text));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_CheckpointedFileRotatedWhileDown_FinishesTheRotatedFileThenReadsTheNewOne()
    {
        // Killed with "three" in flight, then rotated before the restart: "three" is only in the rotated file.
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "one\ntwo\nthree");
        var first = NewSource(path);
        var lines = await ReadAllAsync(first);
        await first.AcknowledgeAsync(lines[1].Position, CancellationToken.None);
        File.Move(path, path + ".1");
        await File.WriteAllTextAsync(path + "-old", "not this one\n");
        await File.WriteAllTextAsync(path, "four\nfive\n");

        var resumed = NewSource(path);
        var again = await ReadAllAsync(resumed);

        Assert.Equal(["three", "four", "five"], again.Select(l => l.Item.Text));
        Assert.Equal(Path.GetFullPath(path + ".1"), resumed.ResumedRotatedPath);
        Assert.Equal(again.Select(l => l.Position).Order(), again.Select(l => l.Position));
        Assert.True(again[0].Position > lines[1].Position);

        // Acknowledged into the new file: the next restart reads it from there, and the rotated file no more.
        await resumed.AcknowledgeAsync(again[1].Position, CancellationToken.None);
        var third = NewSource(path);
        Assert.Equal(["five"], (await ReadAllAsync(third)).Select(l => l.Item.Text));
        Assert.Null(third.ResumedRotatedPath);
    }

    [Fact(Timeout = 30_000)]
    public async Task AcknowledgeAsync_CrashBetweenWriteAndRename_LeavesTheOldCheckpoint()
    {
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "one\ntwo\nthree\nfour\n");
        var source = NewSource(path);
        var lines = await ReadAllAsync(source);
        await source.AcknowledgeAsync(lines[0].Position, CancellationToken.None);
        var before = await File.ReadAllBytesAsync(source.CheckpointPath);
        source.BeforeCheckpointRename = _ => throw new IOException("crash");

        await Assert.ThrowsAsync<IOException>(() => source.AcknowledgeAsync(lines[2].Position, CancellationToken.None).AsTask());

        Assert.True(File.Exists(source.CheckpointPath + ".tmp"));
        Assert.Equal(before, await File.ReadAllBytesAsync(source.CheckpointPath));
        var resumed = await ReadAllAsync(NewSource(path));
        Assert.Equal(["two", "three", "four"], resumed.Select(l => l.Item.Text));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_CheckpointUnreadable_ReadsFromTheStart()
    {
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "one\ntwo\n");
        await File.WriteAllTextAsync(path + ".checkpoint", "{\"offs");

        var lines = await ReadAllAsync(NewSource(path));

        Assert.Equal(["one", "two"], lines.Select(l => l.Item.Text));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_Follow_PartialLastLineWaitsForItsNewline()
    {
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "a\nb");
        using var stop = new CancellationTokenSource();
        await using var lines = NewSource(path, follow: true).ReadAsync(stop.Token).GetAsyncEnumerator();

        Assert.Equal("a", (await NextAsync(lines)).Item.Text);
        var next = NextAsync(lines);
        await File.AppendAllTextAsync(path, "c\nd\n");

        var bc = await next;
        Assert.Equal("bc", bc.Item.Text);
        Assert.Equal(2, bc.Item.StartOffset);
        Assert.Equal("d", (await NextAsync(lines)).Item.Text);
        await stop.CancelAsync();
        Assert.False(await lines.MoveNextAsync().AsTask().WaitAsync(Bound));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_FollowRotation_FinishesTheOldFileThenReadsTheNewOne()
    {
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "old-1\n");
        using var stop = new CancellationTokenSource();
        var source = NewSource(path, follow: true);
        await using var lines = source.ReadAsync(stop.Token).GetAsyncEnumerator();
        var first = await NextAsync(lines);

        var next = NextAsync(lines);
        await File.AppendAllTextAsync(path, "old-2\nold-3");
        File.Move(path, path + ".1");
        await File.WriteAllTextAsync(path, "new-1\n");

        var read = new List<PositionedItem<FileLine>> { first, await next, await NextAsync(lines), await NextAsync(lines) };
        Assert.Equal(["old-1", "old-2", "old-3", "new-1"], read.Select(l => l.Item.Text));
        Assert.Equal(0, read[3].Item.StartOffset);
        Assert.True(read.Zip(read.Skip(1)).All(pair => pair.First.Position < pair.Second.Position), "positions strictly increase");

        // The acknowledgement of a line of the new file checkpoints the new file.
        await source.AcknowledgeAsync(read[3].Position, CancellationToken.None);
        await stop.CancelAsync();
        await File.AppendAllTextAsync(path, "new-2\n");
        var resumed = await ReadAllAsync(NewSource(path));
        Assert.Equal(["new-2"], resumed.Select(l => l.Item.Text));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_FollowRenamedWhileItsWriterStillAppends_ReadsTheOldFileUntilQuietThenTheNewOne()
    {
        // logrotate renames the log, then the writer (nginx until its USR1) goes on appending to the renamed file for a while: the
        // late appends come after the source has seen the new file, while it waits for the renamed one to go quiet.
        var read = await FollowThroughRotationAsync(newFile: string.Empty, lines: 4, async path =>
        {
            await File.AppendAllTextAsync(path + ".1", "old-2\nold-3\n");
            await File.AppendAllTextAsync(path, "new-1\n");
        });

        Assert.Equal(["old-1", "old-2", "old-3", "new-1"], read);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_FollowRotatedTwiceWithinAPollInterval_ReadsEveryFileInTurn()
    {
        // The second rotation comes after the source has seen the file in between, while it waits for the first renamed file to go quiet.
        var read = await FollowThroughRotationAsync(newFile: "mid-1\n", lines: 3, async path =>
        {
            File.Move(path, path + ".2");
            await File.WriteAllTextAsync(path, "new-1\n");
        });

        Assert.Equal(["old-1", "mid-1", "new-1"], read);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_FollowRotatedToAFileThatThenStaysQuiet_GoesOnReadingIt()
    {
        // logrotate's "create": the new file stays empty, and quiet, for longer than the grace the renamed file was given.
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "old-1\n");
        using var stop = new CancellationTokenSource();
        var logger = new RotationSignal();
        var source = new FileSource(new FileSourceOptions { Path = path, Follow = true, PollInterval = TimeSpan.FromMilliseconds(100) }, logger);
        await using var lines = source.ReadAsync(stop.Token).GetAsyncEnumerator();
        Assert.Equal("old-1", (await NextAsync(lines)).Item.Text);

        var next = NextAsync(lines);
        File.Move(path, path + ".1");
        await File.WriteAllTextAsync(path, string.Empty);
        await logger.Switched.WaitAsync(Bound);

        // Quiet for several poll intervals after the switch (time is the scenario): the file read now is not taken for a rotation
        // of itself.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await File.AppendAllTextAsync(path, "new-1\n");
        Assert.Equal("new-1", (await next).Item.Text);
    }
}
