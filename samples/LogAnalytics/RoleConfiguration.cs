using Microsoft.Extensions.Configuration;

namespace LogAnalytics;

/// <summary>
/// The configuration a producer or a consumer gives its pipeline: one <c>appsettings.json</c> configures every stage of every role
/// (<c>parse</c> runs in the producer, <c>store</c> in the consumer), and the engine rejects settings of a stage its pipeline does not
/// have, so each role leaves out the sections of the stages that run in the other. A stage name that no role has is left in and
/// still reported.
/// </summary>
internal static class RoleConfiguration
{
    /// <summary>Returns a copy of <paramref name="configuration"/> without <c>Pipelines:access-logs:Stages:{stage}</c> for each of <paramref name="otherRoleStages"/>.</summary>
    /// <param name="configuration">The application's configuration, complete (command line included).</param>
    /// <param name="otherRoleStages">The stages that run in the other role.</param>
    /// <returns>A configuration with the same values (a snapshot: it does not reload).</returns>
    public static IConfigurationRoot WithoutStages(IConfiguration configuration, IEnumerable<string> otherRoleStages)
    {
        var prefixes = otherRoleStages.Select(stage => $"Pipelines:{LogAnalyticsApp.PipelineName}:Stages:{stage}").ToArray();
        var values = configuration.AsEnumerable()
            .Where(pair => pair.Value is not null
                && !prefixes.Any(prefix => pair.Key.Equals(prefix, StringComparison.OrdinalIgnoreCase)
                    || pair.Key.StartsWith(prefix + ":", StringComparison.OrdinalIgnoreCase)));
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
