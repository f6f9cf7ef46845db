using Microsoft.Extensions.Options;
using Pipeline.Handoffs;
using Polly;

namespace Pipeline;

/// <summary>
/// Validates one pipeline's <see cref="PipelineOptions"/> against its stages: every message names the full configuration key,
/// the bad value and the allowed values, e.g. <c>Pipelines:access-logs:Stages:parse:Parallelism must be between 1 and 1024, was 0</c>.
/// </summary>
internal sealed class PipelineOptionsValidator(PipelineDefinition definition, bool hasDeadLetterStore, IServiceProvider? services = null) : IValidateOptions<PipelineOptions>
{
    private static readonly TimeSpan s_minTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_maxTimeSpan = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        if (!string.Equals(name, definition.Name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = Collect(definition, options, hasDeadLetterStore, services);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Returns every error of <paramref name="options"/>, the configuration reader's first.</summary>
    public static List<string> Collect(PipelineDefinition definition, PipelineOptions options, bool hasDeadLetterStore, IServiceProvider? services = null)
    {
        var errors = new List<string>(options.ConfigurationErrors);
        var prefix = $"{PipelineOptions.SectionName}:{definition.Name}";
        errors.AddRange(options.Handoff.Validate($"{prefix}:Handoff"));
        foreach (var (stageName, stageOptions) in options.Stages)
        {
            var key = $"{prefix}:Stages:{stageName}";
            var stage = definition.FindStage(stageName);
            if (stage is null)
            {
                // The reader reports unknown names found in configuration; this catches those set in code.
                var message = $"{key} is not a stage of pipeline '{definition.Name}'; stages: {string.Join(", ", definition.Stages.Select(s => s.Name))}";
                if (!errors.Contains(message))
                {
                    errors.Add(message);
                }

                continue;
            }

            CheckStage(key, stage.Kind, stageOptions, errors);
        }

        CheckFileSources(definition, options, errors);
        foreach (var stage in definition.Stages)
        {
            options.Stages.TryGetValue(stage.Name, out var configured);
            if ((configured?.Resilience ?? stage.CodeOptions.Resilience)?.Pipeline is { Length: > 0 } named && !StageResilience.IsRegistered(services, named))
            {
                errors.Add($"{prefix}:Stages:{stage.Name}:Resilience:Pipeline names '{named}', which is not registered with AddResiliencePipeline");
            }
        }

        if (options.ProgressInterval is { } progress && progress != TimeSpan.Zero && progress < ProgressReporter.MinInterval)
        {
            errors.Add($"{prefix}:Progress:Interval must be 00:00:00 (off) or at least {ProgressReporter.MinInterval}, was {progress}");
        }

        if ((options.Acknowledgement ?? definition.Acknowledgement) is { } acknowledgement)
        {
            try
            {
                acknowledgement.Validate($"{prefix}:Acknowledgement:", definition.LargestAcknowledgedBatch);
            }
            catch (ArgumentException exception)
            {
                errors.Add(exception.Message);
            }
        }

        try
        {
            (options.Tracing ?? definition.Tracing).Validate($"{prefix}:Tracing:");
        }
        catch (ArgumentException exception)
        {
            errors.Add(exception.Message);
        }

        if (options.DeadLetter.Path is { } path && string.IsNullOrWhiteSpace(path))
        {
            errors.Add($"{prefix}:DeadLetter:Path must be a file path, was '{path}'");
        }

        if (!Enum.IsDefined(options.DeadLetter.Durability))
        {
            errors.Add($"{prefix}:DeadLetter:Durability must be one of {string.Join(", ", Enum.GetNames<DeadLetterDurability>())}, was '{options.DeadLetter.Durability}'");
        }

        if (!hasDeadLetterStore && string.IsNullOrWhiteSpace(options.DeadLetter.Path))
        {
            foreach (var stage in definition.Stages)
            {
                options.Stages.TryGetValue(stage.Name, out var configured);
                if ((configured?.OnError ?? stage.CodeOptions.OnError) == StageErrorMode.DeadLetter)
                {
                    errors.Add($"{prefix}:Stages:{stage.Name}:OnError is DeadLetter, which needs {prefix}:DeadLetter:Path or a registered IDeadLetterStore");
                }
            }
        }

        return errors;
    }

    /// <summary>Checks the options of every file source stage: its code options with <paramref name="options"/>' configured ones laid over them.</summary>
    public static void CheckFileSources(PipelineDefinition definition, PipelineOptions? options, List<string> errors)
    {
        foreach (var stage in definition.Stages.OfType<FileSourceDefinition>())
        {
            StageOptions? configured = null;
            options?.Stages.TryGetValue(stage.Name, out configured);
            var merged = FileSourceOverrides.Apply(stage.Code, configured?.FileSource);
            var result = new FileSourceOptionsValidator($"{PipelineOptions.SectionName}:{definition.Name}:Stages:{stage.Name}").Validate(null, merged);
            if (result.Failed)
            {
                errors.AddRange(result.Failures);
            }
        }
    }

    /// <summary>Checks one stage's options; <paramref name="key"/> is the configuration key (or the stage's name in code).</summary>
    public static void CheckStage(string key, StageKind kind, StageOptions options, List<string> errors)
    {
        if (options.Parallelism is { } parallelism)
        {
            if (parallelism is < StageOptions.MinParallelism or > StageOptions.MaxParallelism)
            {
                errors.Add($"{key}:Parallelism must be between {StageOptions.MinParallelism} and {StageOptions.MaxParallelism}, was {parallelism}");
            }
            else if (parallelism != 1 && kind is StageKind.Source or StageKind.Batch)
            {
                errors.Add($"{key}:Parallelism must be 1 for a {(kind == StageKind.Source ? "source" : "batching step")}, was {parallelism}");
            }
        }

        errors.AddRange(options.Handoff.Validate($"{key}:Handoff"));
        if (kind == StageKind.Source && options.Handoff.Given != HandoffOptions.Members.None)
        {
            errors.Add($"{key}:Handoff does not apply to a source, which has no input");
        }

        if (options.OnError is { } onError)
        {
            if (!Enum.IsDefined(onError))
            {
                errors.Add($"{key}:OnError must be one of {string.Join(", ", Enum.GetNames<StageErrorMode>())}, was {onError}");
            }
            else if (onError != StageErrorMode.Stop && kind is StageKind.Source or StageKind.Batch)
            {
                errors.Add($"{key}:OnError must be Stop for a {(kind == StageKind.Source ? "source" : "batching step")}, was {onError}");
            }
        }

        CheckFailureBudget(key, kind, options, errors);
        if (options.Resilience is { } resilience)
        {
            if (kind is StageKind.Source or StageKind.Batch)
            {
                errors.Add($"{key}:Resilience does not apply to a {(kind == StageKind.Source ? "source" : "batching step")}");
            }

            CheckResilience($"{key}:Resilience", resilience, errors);
        }
    }

    private static void CheckFailureBudget(string key, StageKind kind, StageOptions options, List<string> errors)
    {
        if (options.MaxFailures is { } maxFailures && maxFailures < 0)
        {
            errors.Add($"{key}:MaxFailures must be 0 or more, was {maxFailures}");
        }

        if (options.MaxFailureRatio is { } ratio && !(ratio >= 0 && ratio <= 1))
        {
            errors.Add($"{key}:MaxFailureRatio must be between 0 and 1, was {ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        if (options.FailureRatioMinimumItems is { } minimum && minimum < 1)
        {
            errors.Add($"{key}:FailureRatioMinimumItems must be 1 or more, was {minimum}");
        }

        if ((options.MaxFailures ?? (object?)options.MaxFailureRatio ?? options.FailureRatioMinimumItems) is not null && kind is StageKind.Source or StageKind.Batch)
        {
            errors.Add($"{key}: MaxFailures, MaxFailureRatio and FailureRatioMinimumItems do not apply to a {(kind == StageKind.Source ? "source" : "batching step")}, whose failure faults the pipeline");
        }
    }

    private static void CheckResilience(string key, ResilienceSettings resilience, List<string> errors)
    {
        if (resilience.Pipeline is { } named)
        {
            if (string.IsNullOrWhiteSpace(named))
            {
                errors.Add($"{key}:Pipeline must name a pipeline registered with AddResiliencePipeline, was '{named}'");
            }

            if (resilience.Retry is not null || resilience.Timeout is not null || resilience.RateLimit is not null || resilience.CircuitBreaker is not null)
            {
                errors.Add($"{key}:Pipeline names a registered resilience pipeline, so {key}:Retry, {key}:Timeout, {key}:RateLimit and {key}:CircuitBreaker must be unset");
            }

            return;
        }

        if (resilience.Timeout is { } timeout && (timeout < s_minTimeout || timeout > s_maxTimeSpan))
        {
            errors.Add($"{key}:Timeout must be between {s_minTimeout} and {s_maxTimeSpan}, was {timeout}");
        }

        if (resilience.RateLimit is { } limit)
        {
            if (!(limit.PermitsPerSecond > 0 && limit.PermitsPerSecond <= RateLimitSettings.MaxPermitsPerSecond))
            {
                errors.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{key}:RateLimit:PermitsPerSecond must be more than 0, up to {RateLimitSettings.MaxPermitsPerSecond}, was {limit.PermitsPerSecond}"));
            }

            if (limit.Burst is { } burst && burst < 1)
            {
                errors.Add($"{key}:RateLimit:Burst must be 1 or more, was {burst}");
            }
        }

        if (resilience.CircuitBreaker is { } breaker)
        {
            CheckCircuitBreaker($"{key}:CircuitBreaker", breaker, errors);
        }

        if (resilience.Retry is not { } retry)
        {
            return;
        }

        if (retry.MaxRetryAttempts is { } attempts && attempts is < 1 or > RetrySettings.MaxAllowedRetryAttempts)
        {
            errors.Add($"{key}:Retry:MaxRetryAttempts must be between 1 and {RetrySettings.MaxAllowedRetryAttempts}, was {attempts}");
        }

        if (retry.Delay is { } delay && (delay < TimeSpan.Zero || delay > s_maxTimeSpan))
        {
            errors.Add($"{key}:Retry:Delay must be between {TimeSpan.Zero} and {s_maxTimeSpan}, was {delay}");
        }

        if (retry.MaxDelay is { } maxDelay && (maxDelay < TimeSpan.Zero || maxDelay > s_maxTimeSpan))
        {
            errors.Add($"{key}:Retry:MaxDelay must be between {TimeSpan.Zero} and {s_maxTimeSpan}, was {maxDelay}");
        }

        if (retry.BackoffType is { } backoff && !Enum.IsDefined(backoff))
        {
            errors.Add($"{key}:Retry:BackoffType must be one of {string.Join(", ", Enum.GetNames<DelayBackoffType>())}, was {backoff}");
        }
    }

    /// <summary>Checks a circuit breaker's values against the ranges of Polly's <c>CircuitBreakerStrategyOptions</c>.</summary>
    private static void CheckCircuitBreaker(string key, CircuitBreakerSettings breaker, List<string> errors)
    {
        if (breaker.FailureRatio is { } ratio && !(ratio >= 0 && ratio <= 1))
        {
            errors.Add($"{key}:FailureRatio must be between 0 and 1, was {ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        if (breaker.MinimumThroughput is { } throughput && throughput < CircuitBreakerSettings.MinMinimumThroughput)
        {
            errors.Add($"{key}:MinimumThroughput must be {CircuitBreakerSettings.MinMinimumThroughput} or more, was {throughput}");
        }

        if (breaker.SamplingDuration is { } sampling && (sampling < CircuitBreakerSettings.MinDuration || sampling > CircuitBreakerSettings.MaxDuration))
        {
            errors.Add($"{key}:SamplingDuration must be between {CircuitBreakerSettings.MinDuration} and {CircuitBreakerSettings.MaxDuration}, was {sampling}");
        }

        if (breaker.BreakDuration is { } breakDuration && (breakDuration < CircuitBreakerSettings.MinDuration || breakDuration > CircuitBreakerSettings.MaxDuration))
        {
            errors.Add($"{key}:BreakDuration must be between {CircuitBreakerSettings.MinDuration} and {CircuitBreakerSettings.MaxDuration}, was {breakDuration}");
        }

        if (breaker.WhenOpen is { } whenOpen && !Enum.IsDefined(whenOpen))
        {
            errors.Add($"{key}:WhenOpen must be one of {string.Join(", ", Enum.GetNames<CircuitOpenBehavior>())}, was {whenOpen}");
        }
    }
}
