using Microsoft.Extensions.Options;
using Pipeline.Handoffs;
using Polly;

namespace Pipeline;

/// <summary>
/// Validates one pipeline's <see cref="PipelineOptions"/> against its stages: the ranges of each settings type (its source-generated
/// DataAnnotations validator, <see cref="SettingRangeAttribute"/>), the handoffs (<see cref="HandoffOptions.Validate(string)"/>) and the
/// rules that span settings or depend on the kind of stage. Every message names the full configuration key, the bad value and the
/// allowed values, e.g. <c>Pipelines:access-logs:Stages:parse:Parallelism must be between 1 and 1024, was 0</c>. What only the
/// configuration's keys show is <see cref="PipelineConfigurationValidator"/>'s.
/// </summary>
internal sealed class PipelineOptionsValidator(PipelineDefinition definition, bool hasDeadLetterStore, IServiceProvider? services = null) : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        if (!string.Equals(name, definition.Name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = Collect(definition, options, hasDeadLetterStore, services);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Returns every error of <paramref name="options"/>, bound from configuration or set in code.</summary>
    public static List<string> Collect(PipelineDefinition definition, PipelineOptions options, bool hasDeadLetterStore, IServiceProvider? services = null)
    {
        var errors = new List<string>();
        var prefix = $"{PipelineOptions.SectionName}:{definition.Name}";
        errors.AddRange(options.Handoff.Validate($"{prefix}:Handoff"));
        foreach (var (stageName, stageOptions) in options.Stages)
        {
            var key = $"{prefix}:Stages:{stageName}";
            var stage = definition.FindStage(stageName);
            if (stage is null)
            {
                // Configuration names only stages that exist (PipelineConfigurationValidator); this catches options set in code.
                errors.Add($"{key} is not a stage of pipeline '{definition.Name}'; stages: {string.Join(", ", definition.Stages.Select(s => s.Name))}");
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
        AddFailures(new StageOptionsValidator().Validate(key, options), errors);
        if (options.Parallelism is { } parallelism and >= StageOptions.MinParallelism and <= StageOptions.MaxParallelism
            && parallelism != 1 && kind is StageKind.Source or StageKind.Batch)
        {
            errors.Add($"{key}:Parallelism must be 1 for a {(kind == StageKind.Source ? "source" : "batching step")}, was {parallelism}");
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

        if ((options.MaxFailures ?? (object?)options.MaxFailureRatio ?? options.FailureRatioMinimumItems) is not null && kind is StageKind.Source or StageKind.Batch)
        {
            errors.Add($"{key}: MaxFailures, MaxFailureRatio and FailureRatioMinimumItems do not apply to a {(kind == StageKind.Source ? "source" : "batching step")}, whose failure faults the pipeline");
        }

        if (options.Resilience is { } resilience)
        {
            if (kind is StageKind.Source or StageKind.Batch)
            {
                errors.Add($"{key}:Resilience does not apply to a {(kind == StageKind.Source ? "source" : "batching step")}");
            }

            CheckResilience($"{key}:Resilience", resilience, errors);
        }
    }

    /// <summary>The error of a <c>Resilience</c> section, at <paramref name="key"/>, that names a registered pipeline and also sets a strategy of its own.</summary>
    public static string NamedPipelineWithInlineStrategies(string key) =>
        $"{key}:Pipeline names a registered resilience pipeline, so {key}:Retry, {key}:Timeout, {key}:RateLimit and {key}:CircuitBreaker must be unset";

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
                errors.Add(NamedPipelineWithInlineStrategies(key));
            }

            return;
        }

        AddFailures(new ResilienceSettingsValidator().Validate(key, resilience), errors);
        if (resilience.RateLimit is { } limit)
        {
            AddFailures(new RateLimitSettingsValidator().Validate($"{key}:RateLimit", limit), errors);
        }

        if (resilience.CircuitBreaker is { } breaker)
        {
            AddFailures(new CircuitBreakerSettingsValidator().Validate($"{key}:CircuitBreaker", breaker), errors);
            if (breaker.WhenOpen is { } whenOpen && !Enum.IsDefined(whenOpen))
            {
                errors.Add($"{key}:CircuitBreaker:WhenOpen must be one of {string.Join(", ", Enum.GetNames<CircuitOpenBehavior>())}, was {whenOpen}");
            }
        }

        if (resilience.Retry is { } retry)
        {
            AddFailures(new RetrySettingsValidator().Validate($"{key}:Retry", retry), errors);
            if (retry.BackoffType is { } backoff && !Enum.IsDefined(backoff))
            {
                errors.Add($"{key}:Retry:BackoffType must be one of {string.Join(", ", Enum.GetNames<DelayBackoffType>())}, was {backoff}");
            }

            // Polly caps every delay at MaxDelay: one below the first delay would silently replace the delay configured.
            var delay = retry.Delay ?? StageResilience.DefaultDelay;
            if (retry.MaxDelay is { } maxDelay && maxDelay < delay)
            {
                errors.Add($"{key}:Retry:MaxDelay must be at least {key}:Retry:Delay ({delay:c}{(retry.Delay is null ? ", the default" : string.Empty)}), was {maxDelay:c}");
            }
        }
    }

    private static void AddFailures(ValidateOptionsResult result, List<string> errors)
    {
        if (result.Failed)
        {
            errors.AddRange(result.Failures);
        }
    }
}
