using System.Diagnostics;
using Pipeline.Primitives;

namespace PrimitivesTour.Sections;

/// <summary>
/// An <see cref="Event"/> as a start gun: runners on threads (blocking <see cref="Event.Wait(TimeSpan, CancellationToken)"/>)
/// and on tasks (<see cref="Event.WaitAsync(TimeSpan, CancellationToken)"/>) line up; nobody
/// starts until one <see cref="Event.Set"/> releases them all.
/// </summary>
internal sealed class EventSection : Section
{
    private const int ThreadRunners = 3;
    private const int TaskRunners = 3;
    private const int Runners = ThreadRunners + TaskRunners;

    private readonly Event _startGun = new();
    private readonly Event _allOnTheLine = new();
    private readonly long[] _releasedAt = new long[Runners];
    private int _onTheLine;
    private int _started;

    public override string Id => "event";

    public override string Title => "Event: one Set is a start gun for every waiter";

    public override async Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var threads = new ThreadGroup();
        for (var i = 0; i < ThreadRunners; i++)
        {
            var runner = i;
            threads.Start($"runner-{runner}", () =>
            {
                ArriveOnTheLine();
                Expect(_startGun.Wait(WaitTimeout, cancellationToken), "the start gun");
                Run(runner);
            });
        }

        var tasks = new Task[TaskRunners];
        for (var i = 0; i < TaskRunners; i++)
        {
            var runner = ThreadRunners + i;
            tasks[i] = Task.Run(async () =>
            {
                ArriveOnTheLine();
                Expect(await _startGun.WaitAsync(WaitTimeout, cancellationToken), "the start gun");
                Run(runner);
            }, cancellationToken);
        }

        Expect(await _allOnTheLine.WaitAsync(WaitTimeout, cancellationToken), "every runner on the line");
        var startedBeforeGun = Volatile.Read(ref _started);
        output.WriteLine($"  {Runners} runners on the line ({ThreadRunners} threads, {TaskRunners} tasks); started before the gun: {startedBeforeGun}");

        var firedAt = Stopwatch.GetTimestamp();
        _startGun.Set();
        threads.JoinAll();
        await Task.WhenAll(tasks).WaitAsync(WaitTimeout, cancellationToken);

        var slowest = _releasedAt.Max(releasedAt => Stopwatch.GetElapsedTime(firedAt, releasedAt));
        output.WriteLine($"  one Set(): {_started} of {Runners} started, the last {slowest.TotalMilliseconds:F2} ms after the gun");
        return new CheckResult(
            startedBeforeGun == 0 && _started == Runners && _startGun.IsSet,
            $"no runner started before Set, and one Set released all {Runners}");
    }

    private void ArriveOnTheLine()
    {
        if (Interlocked.Increment(ref _onTheLine) == Runners)
        {
            _allOnTheLine.Set();
        }
    }

    private void Run(int runner)
    {
        _releasedAt[runner] = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _started);
    }
}
