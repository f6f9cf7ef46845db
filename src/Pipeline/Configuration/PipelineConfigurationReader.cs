using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Pipeline.Handoffs;
using Polly;

namespace Pipeline;

/// <summary>
/// Reads <c>Pipelines:{name}</c> into <see cref="PipelineOptions"/> by walking the section itself, so that every unknown key,
/// malformed number and unknown enum value becomes an error naming the full key, the bad value and the allowed values
/// (the reflection binder would ignore unknown keys or throw a message without the key).
/// </summary>
internal static partial class PipelineConfigurationReader
{
    private static readonly string[] s_pipelineKeys = ["Handoff", "Stages", "DeadLetter", "Acknowledgement", "Progress", "Tracing", "Redis"];
    private static readonly string[] s_tracingKeys = ["SampleRatio"];
    private static readonly string[] s_progressKeys = ["Interval"];
    private static readonly string[] s_acknowledgementKeys = ["MaxCount", "MaxDelay", "MaxPending"];
    private static readonly string[] s_handoffKeys = ["Kind", "Capacity", "FullMode"];
    private static readonly string[] s_transformKeys = ["Parallelism", "Ordered", "Handoff", "OnError", "Resilience", "MaxFailures", "MaxFailureRatio", "FailureRatioMinimumItems"];
    private static readonly string[] s_sinkKeys = ["Parallelism", "Handoff", "OnError", "Resilience", "MaxFailures", "MaxFailureRatio", "FailureRatioMinimumItems"];
    private static readonly string[] s_batchKeys = ["Handoff"];
    private static readonly string[] s_resilienceKeys = ["Retry", "Timeout", "RateLimit", "CircuitBreaker", "Pipeline"];
    private static readonly string[] s_circuitBreakerKeys = ["FailureRatio", "MinimumThroughput", "SamplingDuration", "BreakDuration", "WhenOpen"];
    private static readonly string[] s_rateLimitKeys = ["PermitsPerSecond", "Burst"];
    private static readonly string[] s_retryKeys = ["MaxRetryAttempts", "Delay", "BackoffType", "MaxDelay", "UseJitter"];
    private static readonly string[] s_deadLetterKeys = ["Path", "Durability"];

    /// <summary>Reads <paramref name="section"/> into <paramref name="options"/>; errors go to <see cref="PipelineOptions.ConfigurationErrors"/>.</summary>
    public static void Read(IConfigurationSection section, PipelineDefinition definition, PipelineOptions options)
    {
        var errors = options.ConfigurationErrors;
        if (section.Value is not null)
        {
            errors.Add($"{section.Path} must be a section with {string.Join(", ", s_pipelineKeys)}, was '{section.Value}'");
            return;
        }

        foreach (var child in section.GetChildren())
        {
            switch (Match(child, s_pipelineKeys, errors))
            {
                case "Handoff":
                    ReadHandoff(child, options.Handoff, errors);
                    break;
                case "Stages":
                    ReadStages(child, definition, options, errors);
                    break;
                case "Acknowledgement":
                    ReadAcknowledgement(child, definition, options, errors);
                    break;
                case "Progress":
                    if (RequireSection(child, s_progressKeys, errors))
                    {
                        foreach (var key in child.GetChildren())
                        {
                            if (Match(key, s_progressKeys, errors) is not null)
                            {
                                options.ProgressInterval = ReadTimeSpan(key, errors);
                            }
                        }
                    }

                    break;
                case "Tracing":
                    if (RequireSection(child, s_tracingKeys, errors))
                    {
                        var tracing = options.Tracing ??= definition.Tracing.Clone();
                        foreach (var key in child.GetChildren())
                        {
                            if (Match(key, s_tracingKeys, errors) is not null)
                            {
                                tracing.SampleRatio = ReadDouble(key, errors) ?? tracing.SampleRatio;
                            }
                        }
                    }

                    break;
                case "Redis":
                    // Read and validated by the Redis stream package (Pipeline.Redis), which the engine does not reference.
                    break;
                case "DeadLetter":
                    if (RequireSection(child, s_deadLetterKeys, errors))
                    {
                        foreach (var key in child.GetChildren())
                        {
                            switch (Match(key, s_deadLetterKeys, errors))
                            {
                                case "Path":
                                    if (RequireValue(key, errors, "a file path") is { } path)
                                    {
                                        options.DeadLetter.Path = path;
                                    }

                                    break;
                                case "Durability":
                                    if (ReadEnum<DeadLetterDurability>(key, errors) is { } durability)
                                    {
                                        options.DeadLetter.Durability = durability;
                                    }

                                    break;
                            }
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>Records an error for every child of <c>Pipelines</c> that names no registered pipeline (a misspelt name would otherwise be ignored).</summary>
    public static void CheckPipelineNames(IConfigurationSection pipelines, IReadOnlyList<PipelineDefinition> registered, PipelineOptions options)
    {
        foreach (var child in pipelines.GetChildren())
        {
            if (!registered.Any(definition => string.Equals(definition.Name, child.Key, StringComparison.OrdinalIgnoreCase)))
            {
                options.ConfigurationErrors.Add(
                    $"{child.Path} is not a registered pipeline; pipelines: {string.Join(", ", registered.Select(definition => definition.Name))}");
            }
        }
    }

    private static void ReadStages(IConfigurationSection stages, PipelineDefinition definition, PipelineOptions options, List<string> errors)
    {
        if (!RequireSection(stages, definition.Stages.Select(s => s.Name).ToArray(), errors))
        {
            return;
        }

        foreach (var stageSection in stages.GetChildren())
        {
            var stage = definition.FindStage(stageSection.Key);
            if (stage is null)
            {
                errors.Add($"{stageSection.Path} is not a stage of pipeline '{definition.Name}'; stages: {string.Join(", ", definition.Stages.Select(s => s.Name))}");
                continue;
            }

            var allowed = stage.Kind switch
            {
                StageKind.Transform => s_transformKeys,
                StageKind.Sink => s_sinkKeys,
                StageKind.Batch => s_batchKeys,
                _ => stage.ConfigurationKeys.ToArray(),
            };
            if (stageSection.Value is not null && stageSection.Value.Length > 0)
            {
                errors.Add($"{stageSection.Path} must be a section, was '{stageSection.Value}'");
                continue;
            }

            var stageOptions = new StageOptions();
            options.Stages[stage.Name] = stageOptions;
            foreach (var child in stageSection.GetChildren())
            {
                if (allowed.Length == 0)
                {
                    errors.Add($"{child.Path} is not a setting of the source stage '{stage.Name}'; a source takes no stage settings");
                    continue;
                }

                switch (Match(child, allowed, errors))
                {
                    case "Parallelism":
                        stageOptions.Parallelism = ReadInt(child, StageOptions.MinParallelism, StageOptions.MaxParallelism, errors);
                        break;
                    case "Ordered":
                        stageOptions.Ordered = ReadBool(child, errors);
                        break;
                    case "Handoff":
                        ReadHandoff(child, stageOptions.Handoff, errors);
                        break;
                    case "OnError":
                        stageOptions.OnError = ReadEnum<StageErrorMode>(child, errors);
                        break;
                    case "Resilience":
                        stageOptions.Resilience = ReadResilience(child, errors);
                        break;
                    case "MaxFailures":
                        stageOptions.MaxFailures = ReadInt(child, 0, int.MaxValue, errors);
                        break;
                    case "MaxFailureRatio":
                        stageOptions.MaxFailureRatio = ReadDouble(child, errors);
                        break;
                    case "FailureRatioMinimumItems":
                        stageOptions.FailureRatioMinimumItems = ReadInt(child, 1, int.MaxValue, errors);
                        break;
                    case "Path":
                        (stageOptions.FileSource ??= new()).Path = RequireValue(child, errors, "a file path");
                        break;
                    case "Follow":
                        (stageOptions.FileSource ??= new()).Follow = ReadBool(child, errors);
                        break;
                    case "CheckpointPath":
                        (stageOptions.FileSource ??= new()).CheckpointPath = RequireValue(child, errors, "a file path");
                        break;
                    case "PollInterval":
                        (stageOptions.FileSource ??= new()).PollInterval = ReadTimeSpan(child, errors);
                        break;
                }
            }
        }
    }

    /// <summary>Reads <c>Acknowledgement</c> over the code's settings; the ranges are checked by <see cref="PipelineOptionsValidator"/>.</summary>
    private static void ReadAcknowledgement(IConfigurationSection section, PipelineDefinition definition, PipelineOptions options, List<string> errors)
    {
        if (!RequireSection(section, s_acknowledgementKeys, errors))
        {
            return;
        }

        var settings = options.Acknowledgement ??= definition.Acknowledgement.Clone();
        foreach (var child in section.GetChildren())
        {
            switch (Match(child, s_acknowledgementKeys, errors))
            {
                case "MaxCount":
                    settings.MaxCount = ReadInt(child, 1, int.MaxValue, errors) ?? settings.MaxCount;
                    break;
                case "MaxDelay":
                    settings.MaxDelay = ReadTimeSpan(child, errors) ?? settings.MaxDelay;
                    break;
                case "MaxPending":
                    settings.MaxPending = ReadInt(child, 2, AcknowledgementSettings.MaxMaxPending, errors) ?? settings.MaxPending;
                    break;
            }
        }
    }

    private static void ReadHandoff(IConfigurationSection section, HandoffOptions handoff, List<string> errors)
    {
        if (!RequireSection(section, s_handoffKeys, errors))
        {
            return;
        }

        foreach (var child in section.GetChildren())
        {
            switch (Match(child, s_handoffKeys, errors))
            {
                case "Kind" when ReadEnum<HandoffKind>(child, errors) is { } kind:
                    handoff.Kind = kind;
                    break;
                case "Capacity" when ReadInt(child, HandoffOptions.MinCapacity, HandoffOptions.MaxCapacity, errors) is { } capacity:
                    handoff.Capacity = capacity;
                    break;
                case "FullMode" when ReadEnum<BoundedChannelFullMode>(child, errors) is { } fullMode:
                    handoff.FullMode = fullMode;
                    break;
            }
        }
    }

    private static ResilienceSettings? ReadResilience(IConfigurationSection section, List<string> errors)
    {
        if (!RequireSection(section, s_resilienceKeys, errors))
        {
            return null;
        }

        var resilience = new ResilienceSettings();
        foreach (var child in section.GetChildren())
        {
            switch (Match(child, s_resilienceKeys, errors))
            {
                case "Timeout":
                    resilience.Timeout = ReadTimeSpan(child, errors);
                    break;
                case "Pipeline":
                    resilience.Pipeline = RequireValue(child, errors, "the name of a pipeline registered with AddResiliencePipeline");
                    break;
                case "CircuitBreaker":
                    resilience.CircuitBreaker = ReadCircuitBreaker(child, errors);
                    break;
                case "RateLimit":
                    if (RequireSection(child, s_rateLimitKeys, errors))
                    {
                        var limit = resilience.RateLimit = new RateLimitSettings();
                        foreach (var key in child.GetChildren())
                        {
                            switch (Match(key, s_rateLimitKeys, errors))
                            {
                                case "PermitsPerSecond":
                                    limit.PermitsPerSecond = ReadDouble(key, errors, $"a number more than 0, up to {RateLimitSettings.MaxPermitsPerSecond}") ?? 0;
                                    break;
                                case "Burst":
                                    limit.Burst = ReadInt(key, 1, int.MaxValue, errors);
                                    break;
                            }
                        }
                    }

                    break;
                case "Retry":
                    if (!RequireSection(child, s_retryKeys, errors))
                    {
                        break;
                    }

                    var retry = resilience.Retry = new RetrySettings();
                    foreach (var key in child.GetChildren())
                    {
                        switch (Match(key, s_retryKeys, errors))
                        {
                            case "MaxRetryAttempts":
                                retry.MaxRetryAttempts = ReadInt(key, 1, RetrySettings.MaxAllowedRetryAttempts, errors);
                                break;
                            case "Delay":
                                retry.Delay = ReadTimeSpan(key, errors);
                                break;
                            case "BackoffType":
                                retry.BackoffType = ReadEnum<DelayBackoffType>(key, errors);
                                break;
                            case "MaxDelay":
                                retry.MaxDelay = ReadTimeSpan(key, errors);
                                break;
                            case "UseJitter":
                                retry.UseJitter = ReadBool(key, errors);
                                break;
                        }
                    }

                    break;
            }
        }

        return resilience;
    }

    /// <summary>Reads <c>Resilience:CircuitBreaker</c>; the ranges are checked by <see cref="PipelineOptionsValidator"/>.</summary>
    private static CircuitBreakerSettings? ReadCircuitBreaker(IConfigurationSection section, List<string> errors)
    {
        if (!RequireSection(section, s_circuitBreakerKeys, errors))
        {
            return null;
        }

        var breaker = new CircuitBreakerSettings();
        foreach (var key in section.GetChildren())
        {
            switch (Match(key, s_circuitBreakerKeys, errors))
            {
                case "FailureRatio":
                    breaker.FailureRatio = ReadDouble(key, errors);
                    break;
                case "MinimumThroughput":
                    breaker.MinimumThroughput = ReadInt(key, CircuitBreakerSettings.MinMinimumThroughput, int.MaxValue, errors);
                    break;
                case "SamplingDuration":
                    breaker.SamplingDuration = ReadTimeSpan(key, errors);
                    break;
                case "BreakDuration":
                    breaker.BreakDuration = ReadTimeSpan(key, errors);
                    break;
                case "WhenOpen":
                    breaker.WhenOpen = ReadEnum<CircuitOpenBehavior>(key, errors);
                    break;
            }
        }

        return breaker;
    }

    /// <summary>Returns the canonical spelling of <paramref name="section"/>'s key, or records an unknown-key error and returns <see langword="null"/>.</summary>
    private static string? Match(IConfigurationSection section, string[] allowed, List<string> errors)
    {
        foreach (var key in allowed)
        {
            if (string.Equals(key, section.Key, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        AddUnknownKey(section, allowed, errors);
        return null;
    }
}
