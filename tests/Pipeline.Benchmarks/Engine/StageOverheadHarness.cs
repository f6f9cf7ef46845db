using System.Globalization;

namespace Pipeline.Benchmarks.Engine;

/// <summary>
/// 'stage-overhead [rounds] [work]': the chain of <see cref="ResilienceOverheadBenchmark"/> and <see cref="InstrumentOverheadBenchmark"/>
/// (200,000 ints, <c>work</c> iterations of arithmetic per call, 0 by default) with no resilience and no meter (the baseline), naming a
/// registered Polly pipeline with no strategy (not run: the baseline's code again, which shows the noise), through a retry that never
/// fires (without and with Polly's telemetry, on under a host), a circuit breaker that never opens, with the instruments and no listener, and with a listener on every instrument; the cases
/// in alternation, a round at a time (<see cref="PairedOverheadHarness"/>).
/// </summary>
internal static class StageOverheadHarness
{
    public static async Task RunAsync(string[] args)
    {
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        var work = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
        var resilience = new ResilienceOverheadBenchmark { WorkPerCall = work };
        var instruments = new InstrumentOverheadBenchmark { WorkPerCall = work };
        resilience.Setup();
        instruments.Setup();
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ResilienceOverheadBenchmark.Items:N0} items, {work} iterations of work per call"));
            await PairedOverheadHarness.RunAsync(
                [
                    ("baseline", resilience.NoResilience),
                    ("empty-pipeline-not-run", resilience.NoOpPipeline),
                    ("retry", resilience.RetryNeverFiring),
                    ("retry-with-telemetry", resilience.RetryNeverFiringWithTelemetry),
                    ("breaker", resilience.CircuitBreakerNeverOpening),
                    ("instruments", instruments.InstrumentsNoListener),
                    ("listened", instruments.ListenedOnceAsync),
                ],
                ResilienceOverheadBenchmark.Items,
                rounds).ConfigureAwait(false);
        }
        finally
        {
            resilience.Cleanup();
            instruments.Cleanup();
        }
    }
}
