using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Handoffs;
using Polly;

namespace Pipeline;

/// <summary>
/// Walks <c>Pipelines:{name}</c> key by key and reports what the configuration binder cannot see: an unknown key, a stage or
/// pipeline name that is not registered, a section where a value belongs, a list where a section belongs, a value the binder
/// would reject or read differently (a malformed number, an enum name that does not exist, an enum given as a number, a bare
/// number as a time span), and <c>Resilience:Pipeline</c> together with inline keys. Every message names the full key, the bad value
/// and the allowed values. Ranges are the options' own validators' (<see cref="PipelineOptionsValidator"/>); a part of the
/// section with an error here is not bound (<see cref="PipelineConfigurationBinder"/>), so the binder never throws.
/// </summary>
internal sealed partial class PipelineConfigurationValidator(PipelineDefinition definition, IServiceProvider services) : IValidateOptions<PipelineOptions>
{
    private static readonly Setting[] s_handoff =
    [
        new("Kind", Enum<HandoffKind>()),
        new("Capacity", Integer(HandoffOptions.MinCapacity, HandoffOptions.MaxCapacity)),
        new("FullMode", Enum<BoundedChannelFullMode>()),
    ];

    private static readonly Setting[] s_retry =
    [
        new("MaxRetryAttempts", Integer(1, RetrySettings.MaxAllowedRetryAttempts)),
        new("Delay", Time()),
        new("BackoffType", Enum<DelayBackoffType>()),
        new("MaxDelay", Time()),
        new("UseJitter", Boolean()),
    ];

    private static readonly Setting[] s_rateLimit =
    [
        new("PermitsPerSecond", Number($"a number more than 0, up to {RateLimitSettings.MaxPermitsPerSecond}")),
        new("Burst", Integer(1, int.MaxValue)),
    ];

    private static readonly Setting[] s_circuitBreaker =
    [
        new("FailureRatio", Number()),
        new("MinimumThroughput", Integer(CircuitBreakerSettings.MinMinimumThroughput, int.MaxValue)),
        new("SamplingDuration", Time()),
        new("BreakDuration", Time()),
        new("WhenOpen", Enum<CircuitOpenBehavior>()),
    ];

    private static readonly Setting[] s_resilience =
    [
        new("Retry", Section(s_retry)),
        new("Timeout", Time()),
        new("RateLimit", Section(s_rateLimit)),
        new("CircuitBreaker", Section(s_circuitBreaker)),
        new("Pipeline", Text("the name of a pipeline registered with AddResiliencePipeline")),
    ];

    private static readonly Setting[] s_transform =
    [
        new("Parallelism", Integer(StageOptions.MinParallelism, StageOptions.MaxParallelism)),
        new("Ordered", Boolean()),
        new("Handoff", Section(s_handoff)),
        new("OnError", Enum<StageErrorMode>()),
        new("Resilience", Resilience()),
        new("MaxFailures", Integer(0, int.MaxValue)),
        new("MaxFailureRatio", Number()),
        new("FailureRatioMinimumItems", Integer(1, int.MaxValue)),
    ];

    private static readonly Setting[] s_sink = s_transform.Where(setting => setting.Name != "Ordered").ToArray();

    private static readonly Setting[] s_batch = [new("Handoff", Section(s_handoff))];

    private static readonly Setting[] s_fileSource =
    [
        new("Path", Text("a file path")),
        new("Follow", Boolean()),
        new("CheckpointPath", Text("a file path")),
        new("PollInterval", Time()),
    ];

    private static readonly Setting[] s_deadLetter = [new("Path", Text("a file path")), new("Durability", Enum<DeadLetterDurability>())];

    private static readonly Setting[] s_acknowledgement =
    [
        new("MaxCount", Integer(1, int.MaxValue)),
        new("MaxDelay", Time()),
        new("MaxPending", Integer(2, AcknowledgementSettings.MaxMaxPending)),
    ];

    /// <summary>One key the walker knows: its name as the options spell it, and the check of what it holds.</summary>
    private sealed record Setting(string Name, Action<IConfigurationSection, List<ConfigurationError>> Check);

    /// <summary>Reports every error of the configuration of <paramref name="name"/>'s pipeline; skips other pipelines.</summary>
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        if (!string.Equals(name, definition.Name, StringComparison.Ordinal) || services.GetService<IConfiguration>() is not { } configuration)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = Walk(configuration.GetSection($"{PipelineOptions.SectionName}:{definition.Name}"), definition);

        // Reported once, by the first registered pipeline, however many there are.
        var registered = services.GetServices<PipelineDefinition>().ToArray();
        if (ReferenceEquals(registered[0], definition))
        {
            foreach (var child in configuration.GetSection(PipelineOptions.SectionName).GetChildren())
            {
                if (!registered.Any(pipeline => string.Equals(pipeline.Name, child.Key, StringComparison.OrdinalIgnoreCase)))
                {
                    errors.Add(new(child.Path,
                        $"{child.Path} is not a registered pipeline; pipelines: {string.Join(", ", registered.Select(pipeline => pipeline.Name))}"));
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors.Select(error => error.Message));
    }

    /// <summary>Returns every error in <paramref name="section"/>, the configuration of <paramref name="pipeline"/>, in the order of its keys.</summary>
    public static List<ConfigurationError> Walk(IConfigurationSection section, PipelineDefinition pipeline)
    {
        Setting[] settings =
        [
            new("Handoff", Section(s_handoff)),
            new("Stages", (stages, errors) => WalkStages(stages, pipeline, errors)),
            new("DeadLetter", Section(s_deadLetter)),
            new("Acknowledgement", Section(s_acknowledgement)),
            new("Progress", Section([new("Interval", Time())])),
            new("Tracing", Section([new("SampleRatio", Number())])),

            // Read and validated by the Redis stream package (Pipeline.Redis), which the engine does not reference.
            new("Redis", (_, _) => { }),
        ];
        var errors = new List<ConfigurationError>();
        if (section.Value is not null)
        {
            errors.Add(new(section.Path, $"{section.Path} must be a section with {Names(settings)}, was '{section.Value}'"));
            return errors;
        }

        WalkSettings(section, settings, errors);
        return errors;
    }

    private static void WalkStages(IConfigurationSection stages, PipelineDefinition pipeline, List<ConfigurationError> errors)
    {
        if (!RequireSection(stages, pipeline.Stages.Select(stage => stage.Name), errors))
        {
            return;
        }

        foreach (var section in stages.GetChildren())
        {
            if (pipeline.FindStage(section.Key) is not { } stage)
            {
                errors.Add(new(section.Path,
                    $"{section.Path} is not a stage of pipeline '{pipeline.Name}'; stages: {string.Join(", ", pipeline.Stages.Select(s => s.Name))}"));
                continue;
            }

            if (section.Value is { Length: > 0 } value)
            {
                errors.Add(new(section.Path, $"{section.Path} must be a section, was '{value}'"));
                continue;
            }

            var settings = stage.Kind switch
            {
                StageKind.Transform => s_transform,
                StageKind.Sink => s_sink,
                StageKind.Batch => s_batch,
                _ => stage is FileSourceDefinition ? s_fileSource : [],
            };
            if (settings.Length == 0)
            {
                foreach (var child in section.GetChildren())
                {
                    errors.Add(new(child.Path, $"{child.Path} is not a setting of the source stage '{stage.Name}'; a source takes no stage settings"));
                }

                continue;
            }

            WalkSettings(section, settings, errors);
        }
    }

    /// <summary>Checks a stage's <c>Resilience</c>: its keys, and that a named pipeline comes without inline strategies.</summary>
    private static Action<IConfigurationSection, List<ConfigurationError>> Resilience() => (section, errors) =>
    {
        if (!RequireSection(section, s_resilience.Select(setting => setting.Name), errors))
        {
            return;
        }

        WalkSettings(section, s_resilience, errors);
        if (section.GetSection("Pipeline").Exists()
            && s_resilience.Any(setting => setting.Name != "Pipeline" && section.GetSection(setting.Name).Exists()))
        {
            errors.Add(new(section.Path, PipelineOptionsValidator.NamedPipelineWithInlineStrategies(section.Path)));
        }
    };

    private static Action<IConfigurationSection, List<ConfigurationError>> Section(Setting[] settings) => (section, errors) =>
    {
        if (RequireSection(section, settings.Select(setting => setting.Name), errors))
        {
            WalkSettings(section, settings, errors);
        }
    };

    private static void WalkSettings(IConfigurationSection section, Setting[] settings, List<ConfigurationError> errors)
    {
        foreach (var child in section.GetChildren())
        {
            if (settings.FirstOrDefault(setting => string.Equals(setting.Name, child.Key, StringComparison.OrdinalIgnoreCase)) is { } setting)
            {
                setting.Check(child, errors);
            }
            else
            {
                AddUnknownKey(child, settings, errors);
            }
        }
    }

    private static string Names(IEnumerable<Setting> settings) => string.Join(", ", settings.Select(setting => setting.Name));
}

/// <summary>An error found in the configuration: the key at fault (a section's key when the error is the section's) and the message.</summary>
internal readonly record struct ConfigurationError(string Key, string Message);
