using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Pipeline.Redis;

/// <summary>
/// Binds the named <see cref="RedisStreamOptions"/> of a pipeline from <c>Pipelines:{name}:Redis</c>, when configuration is
/// registered. An unknown key throws an <see cref="OptionsValidationException"/> naming the full key and the allowed ones;
/// a malformed value throws the binder's exception, whose message names the full key.
/// </summary>
internal sealed class BindRedisStreamOptions(string pipelineName, IServiceProvider services) : IConfigureNamedOptions<RedisStreamOptions>
{
    private static readonly string[] s_keys =
        ["ConnectionString", "Stream", "Group", "Consumer", "BatchSize", "ClaimIdleTime", "MaxDeliveries", "TrimAcknowledged"];

    public void Configure(string? name, RedisStreamOptions options)
    {
        if (!string.Equals(name, pipelineName, StringComparison.Ordinal) || services.GetService<IConfiguration>() is not { } configuration)
        {
            return;
        }

        var section = configuration.GetSection(RedisStreamOptionsValidator.SectionPath(pipelineName));
        var unknown = section.GetChildren()
            .Where(child => !s_keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            .Select(child => $"{child.Path} is not a known setting; allowed: {string.Join(", ", s_keys)}")
            .ToList();
        if (unknown.Count > 0)
        {
            throw new OptionsValidationException(pipelineName, typeof(RedisStreamOptions), unknown);
        }

        section.Bind(options);
    }

    public void Configure(RedisStreamOptions options) => Configure(Options.DefaultName, options);
}
