using System.Globalization;

namespace Pipeline;

/// <summary>Settings reloaded while a run goes on: what can change in place does; the rest is named as waiting for a restart.</summary>
public sealed partial class PipelineRun
{
    /// <summary>Gets or sets the progress reporter while progress lines are on.</summary>
    internal ProgressReporter? Progress { get; set; }

    /// <summary>
    /// Puts in force the settings of <paramref name="options"/> that do not change the run's shape: each stage's failure budget
    /// (<c>MaxFailures</c>, <c>MaxFailureRatio</c>, <c>FailureRatioMinimumItems</c>), the rate of a stage that has a
    /// <c>Resilience:RateLimit</c> (<c>PermitsPerSecond</c>, <c>Burst</c>), <c>Tracing:SampleRatio</c> and <c>Progress:Interval</c>. Every other setting that
    /// differs from what the run started with is returned as needing a restart, and left as it runs.
    /// </summary>
    /// <returns>The keys applied (with their new values) and the keys that take effect only when the pipeline starts again.</returns>
    internal (List<string> Applied, List<string> NeedRestart) ApplySettings(PipelineDefinition definition, PipelineOptions options)
    {
        var applied = new List<string>();
        var needRestart = new List<string>();
        var prefix = $"Pipelines:{PipelineName}";
        for (var index = 0; index < _stages.Count; index++)
        {
            var runner = _stages[index];
            var current = runner.Options;
            var fresh = ResolvedStageOptions.Resolve(definition.Stages[index], definition.Handoff, options);
            var key = $"{prefix}:Stages:{runner.Name}";
            if (runner.ChangeFailureBudget(fresh))
            {
                applied.Add($"{key}: MaxFailures {Show(fresh.MaxFailures)}, MaxFailureRatio {Show(fresh.MaxFailureRatio)}, FailureRatioMinimumItems {fresh.FailureRatioMinimumItems}");
            }

            var limiter = _ownedStages.OfType<ReloadableRateLimiter>().FirstOrDefault(owned => owned.StageName == runner.Name);
            var rate = fresh.Resilience?.Pipeline is null ? fresh.Resilience?.RateLimit : null;
            if (limiter is not null && rate is not null)
            {
                if (limiter.Change(rate))
                {
                    applied.Add($"{key}:Resilience:RateLimit: PermitsPerSecond {rate.PermitsPerSecond}, Burst {StageRateLimiter.EffectiveBurst(rate).ToString("0.##", CultureInfo.InvariantCulture)}{(rate.Burst is null ? " (the default: one second's permits)" : string.Empty)}");
                }
            }
            else if ((limiter is null) != (rate is null))
            {
                needRestart.Add($"{key}:Resilience:RateLimit (added or removed)");
            }

            needRestart.AddRange(SettingsComparer.ShapeChanges(key, current, fresh));
        }

        var ratio = (options.Tracing ?? definition.Tracing).SampleRatio;
        if (_lifecycle.Sampler is { } sampler && sampler.Ratio != ratio)
        {
            sampler.Ratio = ratio;
            applied.Add($"{prefix}:Tracing:SampleRatio: {ratio}");
        }

        var interval = options.ProgressInterval is { } wanted && wanted > TimeSpan.Zero ? wanted : (TimeSpan?)null;
        if (Progress is { } progress && interval is { } changed && progress.Interval != changed)
        {
            progress.Interval = changed;
            applied.Add($"{prefix}:Progress:Interval: {changed}");
        }
        else if (Progress is not null && interval is null)
        {
            Progress.Dispose();
            Progress = null;
            applied.Add($"{prefix}:Progress:Interval: off");
        }
        else if (Progress is null && interval is { } started && !Completion.IsCompleted)
        {
            Progress = ProgressReporter.Start(this, started, _lifecycle.Logger, _lifecycle.TimeProvider);
            applied.Add($"{prefix}:Progress:Interval: {started}");
        }

        return (applied, needRestart);
    }

    private static string Show<TValue>(TValue? value)
        where TValue : struct => value?.ToString() ?? "none";
}
