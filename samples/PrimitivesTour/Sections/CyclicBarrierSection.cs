using System.Collections.Concurrent;
using Pipeline.Primitives;

namespace PrimitivesTour.Sections;

/// <summary>
/// Four workers (two threads, two tasks) run in phases separated by a <see cref="CyclicBarrier"/>:
/// nobody begins phase k+1 before everyone has finished phase k, and the barrier's action runs
/// exactly once between phases.
/// </summary>
internal sealed class CyclicBarrierSection : Section
{
    private const int Parties = 4;
    private const int Phases = 5;

    private readonly int[] _finished = new int[Phases];
    private readonly ConcurrentQueue<int>[] _arrivalIndices = [.. Enumerable.Range(0, Phases).Select(_ => new ConcurrentQueue<int>())];
    private readonly List<int> _actionSawFinished = [];
    private int _earlyStarts;

    public override string Id => "barrier";

    public override string Title => "CyclicBarrier: workers move through phases in step";

    public override async Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var phaseOfAction = 0;
        var barrier = new CyclicBarrier(Parties, () =>
        {
            // Runs once per generation, by the last party to arrive, before anyone is released.
            _actionSawFinished.Add(Volatile.Read(ref _finished[phaseOfAction]));
            phaseOfAction++;
        });

        var threads = new ThreadGroup();
        threads.Start("phase-thread-0", () => RunPhases(worker: 0, () => barrier.SignalAndWait(WaitTimeout, cancellationToken)));
        threads.Start("phase-thread-1", () => RunPhases(worker: 1, () => barrier.SignalAndWait(WaitTimeout, cancellationToken)));
        var tasks = new[]
        {
            Task.Run(() => RunPhasesAsync(worker: 2, barrier, cancellationToken), cancellationToken),
            Task.Run(() => RunPhasesAsync(worker: 3, barrier, cancellationToken), cancellationToken),
        };
        threads.JoinAll();
        await Task.WhenAll(tasks).WaitAsync(WaitTimeout, cancellationToken);

        var indicesDistinct = _arrivalIndices.All(indices => indices.Order().SequenceEqual(Enumerable.Range(0, Parties)));
        output.WriteLine($"  {Parties} workers x {Phases} phases; starts of phase k+1 seen before all of phase k finished: {_earlyStarts}");
        output.WriteLine($"  the action ran {_actionSawFinished.Count} times and each time saw finished workers: {string.Join(", ", _actionSawFinished)}");
        output.WriteLine($"  each phase handed out arrival indices 0..{Parties - 1}: {indicesDistinct}; barrier broken: {barrier.IsBroken}");
        var held = _earlyStarts == 0
            && _actionSawFinished.Count == Phases
            && _actionSawFinished.All(finished => finished == Parties)
            && indicesDistinct
            && !barrier.IsBroken;
        return new CheckResult(held, $"every phase completed before the next began, and the action ran once per phase ({Phases} times)");
    }

    private void RunPhases(int worker, Func<int> signalAndWait)
    {
        for (var phase = 0; phase < Phases; phase++)
        {
            DoPhaseWork(worker, phase);
            _arrivalIndices[phase].Enqueue(signalAndWait());
        }
    }

    private async Task RunPhasesAsync(int worker, CyclicBarrier barrier, CancellationToken cancellationToken)
    {
        for (var phase = 0; phase < Phases; phase++)
        {
            DoPhaseWork(worker, phase);
            _arrivalIndices[phase].Enqueue(await barrier.SignalAndWaitAsync(WaitTimeout, cancellationToken));
        }
    }

    private void DoPhaseWork(int worker, int phase)
    {
        if (phase > 0 && Volatile.Read(ref _finished[phase - 1]) != Parties)
        {
            Interlocked.Increment(ref _earlyStarts);
        }

        // Uneven work, so that the workers reach the barrier at different times.
        Thread.SpinWait(1_000 * (1 + ((worker + phase) % Parties)));
        Interlocked.Increment(ref _finished[phase]);
    }
}
