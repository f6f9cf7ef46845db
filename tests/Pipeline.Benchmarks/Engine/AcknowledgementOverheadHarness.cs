using System.Globalization;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// 'ack-overhead [rounds]': the engine benchmark's chain from a plain and from an acknowledging source
/// (<see cref="ThreeStagePipelineBenchmark.EngineFromAsync"/>), run alternately, a pair per round (<see cref="PairedOverheadHarness"/>).
/// </summary>
internal static class AcknowledgementOverheadHarness
{
    public static Task RunAsync(string[] args) => PairedOverheadHarness.RunAsync(
        [
            ("plain", () => ThreeStagePipelineBenchmark.EngineFromAsync(acknowledging: false)),
            ("acknowledging", () => ThreeStagePipelineBenchmark.EngineFromAsync(acknowledging: true)),
        ],
        ThreeStagePipelineBenchmark.Items,
        rounds: args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15);
}
