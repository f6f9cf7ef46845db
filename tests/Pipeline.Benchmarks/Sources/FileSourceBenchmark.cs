using System.Text;
using BenchmarkDotNet.Attributes;

namespace Pipeline.Benchmarks.Sources;

/// <summary>
/// Reading 1,000,000 access-log lines (about 80 bytes each) with <see cref="FileSource"/>, against <see cref="File.ReadLinesAsync(string, CancellationToken)"/>
/// (baseline), which tracks no offsets. Reported per line.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 6)]
public class FileSourceBenchmark
{
    private const int Lines = 1_000_000;
    private string _directory = string.Empty;
    private string _path = string.Empty;

    [GlobalSetup]
    public void WriteFile()
    {
        _directory = Directory.CreateTempSubdirectory("file-source-benchmark-").FullName;
        _path = Path.Combine(_directory, "access.log");
        using var writer = new StreamWriter(_path, false, new UTF8Encoding(false), 1 << 16);
        for (var i = 0; i < Lines; i++)
        {
            writer.Write($"203.0.113.{i % 256} - - [01/Dec/2026:00:00:00 +0000] \"GET /item/{i} HTTP/1.1\" 200 512\n");
        }
    }

    [GlobalCleanup]
    public void DeleteFile() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Baseline = true, OperationsPerInvoke = Lines)]
    public async Task<long> FileReadLines()
    {
        var length = 0L;
        await foreach (var line in File.ReadLinesAsync(_path).ConfigureAwait(false))
        {
            length += line.Length;
        }

        return length;
    }

    [Benchmark(OperationsPerInvoke = Lines)]
    public async Task<long> FileSourceLines()
    {
        var source = new FileSource(new FileSourceOptions { Path = _path, CheckpointPath = _path + ".no-checkpoint" });
        var length = 0L;
        await foreach (var line in source.ReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            length += line.Item.Text.Length;
        }

        return length;
    }
}
