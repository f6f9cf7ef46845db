using Microsoft.Extensions.Configuration;

namespace Pipeline;

/// <summary>
/// Binds <c>Pipelines:{name}</c> into <see cref="PipelineOptions"/> with the configuration binder (source-generated), part by part:
/// the pipeline's <c>Handoff</c>, each stage, <c>DeadLetter</c>, <c>Acknowledgement</c>, <c>Progress</c> and <c>Tracing</c>. A part in
/// which <see cref="PipelineConfigurationValidator"/> finds an error is left unbound, so the binder never throws on a malformed
/// value and the start fails with the validator's message instead; every other part is bound, and its ranges are validated.
/// </summary>
internal static class PipelineConfigurationBinder
{
    /// <summary>Binds <paramref name="section"/>, the configuration of <paramref name="definition"/>, into <paramref name="options"/>.</summary>
    public static void Bind(IConfigurationSection section, PipelineDefinition definition, PipelineOptions options)
    {
        var errors = PipelineConfigurationValidator.Walk(section, definition);
        bool IsWellFormed(IConfigurationSection part) => part.Exists() && !errors.Any(error =>
            error.Key.Equals(part.Path, StringComparison.OrdinalIgnoreCase)
            || error.Key.StartsWith($"{part.Path}:", StringComparison.OrdinalIgnoreCase)
            || part.Path.StartsWith($"{error.Key}:", StringComparison.OrdinalIgnoreCase));

        // Each level's Handoff is bound on its own: a key that is present sets its member, which then overrides the levels below.
        if (section.GetSection("Handoff") is var handoff && IsWellFormed(handoff))
        {
            handoff.Bind(options.Handoff);
        }

        foreach (var stage in definition.Stages)
        {
            var stageSection = section.GetSection($"Stages:{stage.Name}");
            if (!IsWellFormed(stageSection))
            {
                continue;
            }

            var stageOptions = new StageOptions();
            stageSection.Bind(stageOptions);
            if (stage is FileSourceDefinition)
            {
                var fileSource = stageOptions.FileSource = new FileSourceOverrides();
                stageSection.Bind(fileSource);
            }

            options.Stages[stage.Name] = stageOptions;
        }

        // DeadLetterSettings also holds serializer settings that are set in code only, so its two keys are bound one by one.
        if (section.GetSection("DeadLetter") is var deadLetter && IsWellFormed(deadLetter))
        {
            options.DeadLetter.Path = deadLetter.GetValue("Path", options.DeadLetter.Path);
            options.DeadLetter.Durability = deadLetter.GetValue("Durability", options.DeadLetter.Durability);
        }

        // Acknowledgement and tracing are laid over the code's settings; a key that is absent keeps the code's value.
        if (section.GetSection("Acknowledgement") is var acknowledgement && IsWellFormed(acknowledgement))
        {
            var settings = options.Acknowledgement = definition.Acknowledgement.Clone();
            acknowledgement.Bind(settings);
        }

        if (section.GetSection("Tracing") is var tracing && IsWellFormed(tracing))
        {
            var settings = options.Tracing = definition.Tracing.Clone();
            tracing.Bind(settings);
        }

        if (section.GetSection("Progress") is var progress && IsWellFormed(progress))
        {
            options.ProgressInterval = progress.GetValue<TimeSpan?>("Interval");
        }
    }
}
