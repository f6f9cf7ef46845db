using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Pipeline.Redis;

/// <summary>
/// Binds the named <see cref="RedisStreamOptions"/> of a pipeline from <c>Pipelines:{name}:Redis</c>, when configuration is
/// registered. An unknown key or a malformed value throws with the full key (the binder's own message names it).
/// </summary>
internal sealed class BindRedisStreamOptions(string pipelineName, IServiceProvider services) : IConfigureNamedOptions<RedisStreamOptions>
{
    public void Configure(string? name, RedisStreamOptions options)
    {
        if (!string.Equals(name, pipelineName, StringComparison.Ordinal) || services.GetService<IConfiguration>() is not { } configuration)
        {
            return;
        }

        configuration.GetSection(RedisStreamOptionsValidator.SectionPath(pipelineName))
            .Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
    }

    public void Configure(RedisStreamOptions options) => Configure(Options.DefaultName, options);
}
