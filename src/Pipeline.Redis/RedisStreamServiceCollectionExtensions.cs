using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline;
using Pipeline.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Redis stream sources and sinks for pipelines, configured from <c>Pipelines:{name}:Redis</c>.</summary>
public static class RedisStreamServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Redis settings of pipeline <paramref name="pipelineName"/>: <see cref="RedisStreamOptions"/> named after the
    /// pipeline, set by <paramref name="configure"/> and then bound from <c>Pipelines:{pipelineName}:Redis</c> (configuration wins; an
    /// unknown key is an error), validated when the host starts by <see cref="RedisStreamOptionsValidator"/>; and one shared
    /// multiplexer per connection string, connected on first use and disposed with the container. Calling it again for the same
    /// pipeline only adds <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services; an <c>IConfiguration</c> must be registered (a host registers one).</param>
    /// <param name="pipelineName">The pipeline's name.</param>
    /// <param name="configure">Sets options in code before configuration is applied; <see langword="null"/> for none.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="services"/> or <paramref name="pipelineName"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="pipelineName"/> is empty or contains ':'.</exception>
    public static IServiceCollection AddRedisStreams(this IServiceCollection services, string pipelineName, Action<RedisStreamOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(pipelineName);
        if (pipelineName.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A pipeline name must not contain ':', was '{pipelineName}'", nameof(pipelineName));
        }

        var optionsBuilder = services.AddOptions<RedisStreamOptions>(pipelineName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        if (!services.Any(descriptor => descriptor.ServiceType == typeof(Registration) && descriptor.ImplementationInstance is Registration registration
                && string.Equals(registration.PipelineName, pipelineName, StringComparison.Ordinal)))
        {
            services.AddSingleton(new Registration(pipelineName));
            services.AddSingleton<IConfigureOptions<RedisStreamOptions>>(provider => new BindRedisStreamOptions(pipelineName, provider));
            optionsBuilder.ValidateOnStart();
        }

        services.TryAddSingleton<RedisConnector>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStreamOptions>, RedisStreamOptionsValidator>());
        return services;
    }

    /// <summary>
    /// Registers <see cref="RedisStreamSource{T}"/> for pipeline <paramref name="pipelineName"/> (see
    /// <see cref="AddRedisStreams"/>), created for each run with the pipeline's Redis settings, the shared multiplexer and the
    /// registered <see cref="IDeadLetterStore"/> if any. Use it with
    /// <see cref="RedisStreamPipelineBuilderExtensions.FromRedisStream{T}(PipelineBuilder, string, Action{StageOptions})"/>. One
    /// Redis source per item type per container.
    /// </summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="pipelineName">The pipeline's name.</param>
    /// <param name="itemTypeInfo">Deserializes the items; <see langword="null"/> for reflection with default options.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="services"/> or <paramref name="pipelineName"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="pipelineName"/> is empty or contains ':'.</exception>
    public static IServiceCollection AddRedisStreamSource<T>(this IServiceCollection services, string pipelineName, JsonTypeInfo<T>? itemTypeInfo = null)
    {
        services.AddRedisStreams(pipelineName);
        services.AddSingleton<IValidateOptions<RedisStreamOptions>>(new RedisStreamOptionsValidator.Reader(pipelineName));
        services.AddTransient(provider =>
        {
            var options = provider.GetRequiredService<IOptionsMonitor<RedisStreamOptions>>().Get(pipelineName);
            return new RedisStreamSource<T>(Connect(provider, pipelineName, options), options, itemTypeInfo, provider.GetService<IDeadLetterStore>(), Logger(provider))
            {
                PipelineName = pipelineName,
            };
        });
        return services;
    }

    /// <summary>
    /// Registers <see cref="RedisStreamSink{T}"/> for pipeline <paramref name="pipelineName"/> (see <see cref="AddRedisStreams"/>),
    /// created for each run with the pipeline's Redis settings and the shared multiplexer. Use it with
    /// <see cref="RedisStreamPipelineBuilderExtensions.ToRedisStream{T}(PipelineBuilder{T}, string, Action{StageOptions})"/> or
    /// <see cref="RedisStreamPipelineBuilderExtensions.ToRedisStreamBatched{T}(PipelineBuilder{IReadOnlyList{T}}, string, Action{StageOptions})"/>.
    /// One Redis sink per item type per container.
    /// </summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="pipelineName">The pipeline's name.</param>
    /// <param name="itemTypeInfo">Serializes the items; <see langword="null"/> for reflection with default options.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="services"/> or <paramref name="pipelineName"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="pipelineName"/> is empty or contains ':'.</exception>
    public static IServiceCollection AddRedisStreamSink<T>(this IServiceCollection services, string pipelineName, JsonTypeInfo<T>? itemTypeInfo = null)
    {
        services.AddRedisStreams(pipelineName);
        services.AddTransient(provider =>
        {
            var options = provider.GetRequiredService<IOptionsMonitor<RedisStreamOptions>>().Get(pipelineName);
            return new RedisStreamSink<T>(Connect(provider, pipelineName, options), options, itemTypeInfo, Logger(provider));
        });
        services.AddTransient(provider => new RedisStreamBatchSink<T>(provider.GetRequiredService<RedisStreamSink<T>>()));
        return services;
    }

    private static Func<ValueTask<StackExchange.Redis.IConnectionMultiplexer>> Connect(IServiceProvider provider, string pipelineName, RedisStreamOptions options)
    {
        var connector = provider.GetRequiredService<RedisConnector>();
        var settingPath = $"{RedisStreamOptionsValidator.SectionPath(pipelineName)}:ConnectionString";
        return () => connector.GetAsync(options.ConnectionString!, settingPath);
    }

    private static ILogger? Logger(IServiceProvider provider) => provider.GetService<ILoggerFactory>()?.CreateLogger("Pipeline.Redis");

    /// <summary>Marks a pipeline whose Redis settings are registered.</summary>
    private sealed record Registration(string PipelineName);
}
