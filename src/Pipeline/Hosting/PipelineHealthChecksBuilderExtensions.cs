using Microsoft.Extensions.Diagnostics.HealthChecks;
using Pipeline;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds pipeline health checks.</summary>
public static class PipelineHealthChecksBuilderExtensions
{
    /// <summary>Adds a health check named <c>pipeline:{pipelineName}</c> for a pipeline registered with <c>AddPipeline</c>.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="pipelineName">The pipeline's name.</param>
    /// <param name="tags">Tags to filter health checks by.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="pipelineName"/> is empty.</exception>
    public static IHealthChecksBuilder AddPipelineHealthCheck(this IHealthChecksBuilder builder, string pipelineName, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(pipelineName);
        return builder.Add(new HealthCheckRegistration(
            $"pipeline:{pipelineName}",
            provider => new PipelineHealthCheck(provider.GetPipeline(pipelineName)),
            failureStatus: null,
            tags));
    }
}
