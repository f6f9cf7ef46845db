namespace Pipeline.Tests.Sources;

public sealed partial class FileSourceTests
{
    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_SharedCheckpointOfALongerCopyInAnotherFolder_ReadsThisFileFromTheStart()
    {
        // The same name in two folders, the second a longer copy of the first: the first's fingerprint matches the second's start,
        // so only the path recorded in the checkpoint tells them apart.
        var shared = _directory.File("state/access.checkpoint");
        var short_ = _directory.File("p1/access.log");
        var long_ = _directory.File("p2/access.log");
        Directory.CreateDirectory(Path.GetDirectoryName(short_)!);
        Directory.CreateDirectory(Path.GetDirectoryName(long_)!);
        await File.WriteAllTextAsync(short_, "one\ntwo\n");
        await File.WriteAllTextAsync(long_, "one\ntwo\nthree\nfour\n");
        var first = NewSource(short_, checkpointPath: shared);
        var lines = await ReadAllAsync(first);
        await first.AcknowledgeAsync(lines[^1].Position, CancellationToken.None);

        var other = await ReadAllAsync(NewSource(long_, checkpointPath: shared));

        Assert.Equal(["one", "two", "three", "four"], other.Select(l => l.Item.Text));
        Assert.Contains(Path.GetFullPath(short_), await File.ReadAllTextAsync(shared), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_CheckpointWithoutASourcePath_StillResumes()
    {
        // A checkpoint written before the source's path was recorded in it applies as it did: by its fingerprint alone.
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "one\ntwo\nthree\n");
        var first = NewSource(path);
        var lines = await ReadAllAsync(first);
        await first.AcknowledgeAsync(lines[1].Position, CancellationToken.None);
        var json = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(first.CheckpointPath))!.AsObject();
        Assert.True(json.Remove("source"), "the checkpoint records the source's path");
        await File.WriteAllTextAsync(first.CheckpointPath, json.ToJsonString());

        var resumed = await ReadAllAsync(NewSource(path));

        Assert.Equal(["three"], resumed.Select(l => l.Item.Text));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAsync_SameFileThroughASymbolicLink_ResumesFromItsCheckpoint()
    {
        var real = _directory.File("real/in.log");
        Directory.CreateDirectory(Path.GetDirectoryName(real)!);
        Directory.CreateSymbolicLink(_directory.File("link"), _directory.File("real"));
        var linked = _directory.File("link/in.log");
        var shared = _directory.File("state/in.checkpoint");
        await File.WriteAllTextAsync(real, "one\ntwo\nthree\n");
        var first = NewSource(real, checkpointPath: shared);
        var lines = await ReadAllAsync(first);
        await first.AcknowledgeAsync(lines[1].Position, CancellationToken.None);

        var resumed = await ReadAllAsync(NewSource(linked, checkpointPath: shared));

        Assert.Equal(["three"], resumed.Select(l => l.Item.Text));
        Assert.Equal(Path.GetFullPath(real), FileSource.GetRealPath(linked));
        Assert.Equal(Path.GetFullPath(real), FileSource.GetRealPath(_directory.File("real/./../link/in.log")));
        Assert.Equal(Path.GetFullPath(_directory.File("real/missing/x.log")), FileSource.GetRealPath(_directory.File("link/missing/x.log")));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("")]
    [InlineData("a\u0000b")]
    public async Task ReadAsync_CheckpointNamingAnInvalidPath_ReadsFromTheStart(string source)
    {
        var path = _directory.File("in.log");
        await File.WriteAllTextAsync(path, "one\ntwo\n");
        var checkpoint = _directory.File("in.checkpoint");
        await File.WriteAllTextAsync(checkpoint, $$"""{"offset":4,"prefixLength":4,"prefixHash":"x","source":"{{source}}"}""");

        var lines = await ReadAllAsync(NewSource(path, checkpointPath: checkpoint));

        Assert.Equal(["one", "two"], lines.Select(l => l.Item.Text));
    }
}
