using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers pipelines with a host.</summary>
public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the pipeline <paramref name="name"/> as a hosted service. Its configuration, <c>Pipelines:{name}</c>, overrides
    /// the options given in code and is validated when the host starts: a bad value stops the start with a message naming the key.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The pipeline's name.</param>
    /// <param name="configure">Declares the stages: <c>p =&gt; p.From(...).Then(...).To(...)</c>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="services"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already registered.</exception>
    /// <exception cref="InvalidOperationException">Thrown when <paramref name="configure"/> does not end the pipeline with a sink.</exception>
    public static IServiceCollection AddPipeline(this IServiceCollection services, string name, Action<PipelineBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new PipelineBuilder(name);
        configure(builder);
        var definition = builder.ToDefinition();
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(PipelineDefinition)
                && descriptor.ImplementationInstance is PipelineDefinition existing
                && string.Equals(existing.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"A pipeline named '{name}' is already registered.", nameof(name));
            }
        }

        services.AddSingleton(definition);
        services.AddOptions<PipelineOptions>(name)
            .Configure<IServiceProvider>((options, provider) =>
            {
                if (provider.GetService<IConfiguration>() is { } configuration)
                {
                    PipelineConfigurationBinder.Bind(configuration.GetSection($"{PipelineOptions.SectionName}:{name}"), definition, options);
                }

                // A relative dead-letter path is the application's, like appsettings.json: resolved against the content root,
                // not against whatever the working directory happens to be.
                if (options.DeadLetter.Path is { Length: > 0 } path && !Path.IsPathRooted(path)
                    && provider.GetService<IHostEnvironment>() is { ContentRootPath: { Length: > 0 } contentRoot })
                {
                    options.DeadLetter.Path = Path.Combine(contentRoot, path);
                }

                // So are a file source's configured paths.
                if (provider.GetService<IHostEnvironment>() is { ContentRootPath: { Length: > 0 } root })
                {
                    foreach (var fileSource in options.Stages.Values.Select(stage => stage.FileSource).OfType<FileSourceOverrides>())
                    {
                        fileSource.Path = fileSource.Path is { Length: > 0 } input && !Path.IsPathRooted(input) ? Path.Combine(root, input) : fileSource.Path;
                        fileSource.CheckpointPath = fileSource.CheckpointPath is { Length: > 0 } checkpoint && !Path.IsPathRooted(checkpoint)
                            ? Path.Combine(root, checkpoint)
                            : fileSource.CheckpointPath;
                    }
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PipelineOptions>>(provider => new PipelineConfigurationValidator(definition, provider));
        services.AddSingleton<IValidateOptions<PipelineOptions>>(
            provider => new PipelineOptionsValidator(definition, provider.GetService<IDeadLetterStore>() is not null, provider));
        services.AddKeyedSingleton(definition.Name, (provider, _) => new PipelineHostedService(definition, provider));
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredKeyedService<PipelineHostedService>(definition.Name));
        return services;
    }
}
