using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Pipeline;

/// <summary>
/// Logs one progress line per interval while a run goes on (<c>Pipelines:{name}:Progress:Interval</c>): per stage the items taken
/// and their rate over the interval and the fill of its input handoff, then the totals sunk and failed. The interval may change
/// while it runs (a configuration reload), and it may be stopped.
/// </summary>
internal sealed class ProgressReporter : IDisposable
{
    /// <summary>The shortest interval allowed.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);

    private readonly PeriodicTimer _timer;

    private ProgressReporter(TimeSpan interval, TimeProvider timeProvider) => _timer = new PeriodicTimer(interval, timeProvider);

    /// <summary>Gets or sets the interval; a new one counts from now.</summary>
    public TimeSpan Interval
    {
        get => _timer.Period;
        set => _timer.Period = value;
    }

    /// <summary>Starts logging a line every <paramref name="interval"/> until <paramref name="run"/> completes or it is disposed.</summary>
    public static ProgressReporter Start(PipelineRun run, TimeSpan interval, ILogger logger, TimeProvider timeProvider)
    {
        var reporter = new ProgressReporter(interval, timeProvider);
        _ = reporter.RunAsync(run, logger, timeProvider);
        return reporter;
    }

    /// <summary>Stops logging.</summary>
    public void Dispose() => _timer.Dispose();

    private async Task RunAsync(PipelineRun run, ILogger logger, TimeProvider timeProvider)
    {
        using var timer = _timer;
        var previous = run.GetStatistics().Select(stage => stage.In).ToArray();
        var started = timeProvider.GetTimestamp();
        var last = started;
        while (!run.Completion.IsCompleted)
        {
            var tick = timer.WaitForNextTickAsync().AsTask();
            if (await Task.WhenAny(tick, run.Completion).ConfigureAwait(false) != tick || !await tick.ConfigureAwait(false))
            {
                return;
            }

            var now = timeProvider.GetTimestamp();
            var seconds = timeProvider.GetElapsedTime(last, now).TotalSeconds;
            last = now;
            var statistics = run.GetStatistics();
            var line = new StringBuilder();
            line.Append(CultureInfo.InvariantCulture, $"{timeProvider.GetElapsedTime(started, now).TotalSeconds:N1} s");
            long failed = 0;
            for (var index = 0; index < statistics.Count; index++)
            {
                var stage = statistics[index];
                var rate = seconds > 0 ? (stage.In - previous[index]) / seconds : 0;
                previous[index] = stage.In;
                failed += stage.Failed;
                line.Append(CultureInfo.InvariantCulture, $"; {stage.StageName} {stage.In:N0} ({rate:N0}/s)");
                if (index > 0)
                {
                    line.Append(CultureInfo.InvariantCulture, $", input {stage.Waiting:N0}/{run.Stages[index].Options.Handoff.Capacity:N0}");
                }
            }

            line.Append(CultureInfo.InvariantCulture, $"; {statistics[^1].StageName} wrote {statistics[^1].Out:N0}, failed {failed:N0}");
            logger.Progress(run.PipelineName, line.ToString());
        }
    }
}
