using BenchmarkDotNet.Attributes;
using Pipeline.Handoffs;

namespace Pipeline.Benchmarks.LogAnalytics;

/// <summary>
/// The sample's job end to end on the same generated 1,000,000-line log: the plain single-threaded loop (baseline) against the
/// sample's pipeline with each handoff kind. One operation per line. Long: each invocation is several seconds; for a quick figure
/// run <c>dotnet run -c Release --project tests/Pipeline.Benchmarks -- access-logs</c> instead (one timed run of each).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class AccessLogBenchmark
{
    private const int Lines = 1_000_000;
    private string _folder = string.Empty;
    private string _input = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "pipeline-access-log-benchmark");
        Directory.CreateDirectory(_folder);
        _input = AccessLogRuns.EnsureLog(_folder, Lines);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lines)]
    public async Task<long> Loop() => (await AccessLogRuns.LoopAsync(_input, _folder).ConfigureAwait(false)).Read;

    [Benchmark(OperationsPerInvoke = Lines)]
    [Arguments(HandoffKind.Condition)]
    [Arguments(HandoffKind.Semaphore)]
    [Arguments(HandoffKind.Channel)]
    public async Task<long> Pipeline(HandoffKind kind) => (await AccessLogRuns.PipelineAsync(_input, _folder, kind).ConfigureAwait(false)).Read;
}
