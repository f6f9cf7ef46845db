using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;

// 'access-logs [lines]' runs the sample's job once per case with a Stopwatch (see AccessLogHarness).
// Every benchmark reports allocations; pick benchmarks with --filter, e.g. --filter '*Queue*'.
if (args is ["access-logs", ..])
{
    await Pipeline.Benchmarks.LogAnalytics.AccessLogHarness.RunAsync(args).ConfigureAwait(false);
    return;
}

// 'ack-overhead [rounds]' times the engine from a plain and an acknowledging source in alternation (see AcknowledgementOverheadHarness).
if (args is ["ack-overhead", ..])
{
    await Pipeline.Benchmarks.Engine.AcknowledgementOverheadHarness.RunAsync(args).ConfigureAwait(false);
    return;
}

// 'stage-overhead [rounds] [work]' times resilience and instruments against the plain chain in alternation (see StageOverheadHarness).
if (args is ["stage-overhead", ..])
{
    await Pipeline.Benchmarks.Engine.StageOverheadHarness.RunAsync(args).ConfigureAwait(false);
    return;
}

var config = DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
