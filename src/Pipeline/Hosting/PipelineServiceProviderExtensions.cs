using Microsoft.Extensions.Hosting;
using Pipeline;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Reaches a pipeline registered with <c>AddPipeline</c> from the services, for health and admin endpoints.</summary>
public static class PipelineServiceProviderExtensions
{
    /// <summary>
    /// Returns the hosted pipeline named <paramref name="name"/> (case-insensitive): its current run (<see cref="PipelineHostedService.Run"/>,
    /// with <see cref="PipelineRun.GetStatistics"/> and <see cref="PipelineRun.RequestStop"/>) and its result
    /// (<see cref="PipelineHostedService.Completion"/>). The same object is registered as a keyed service under the pipeline's name,
    /// for <c>[FromKeyedServices("name")] PipelineHostedService pipeline</c>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="name">The pipeline's name.</param>
    /// <returns>The pipeline's hosted service.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="services"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty.</exception>
    /// <exception cref="InvalidOperationException">Thrown when no pipeline of that name is registered; the message lists the registered ones.</exception>
    public static PipelineHostedService GetPipeline(this IServiceProvider services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var registered = services.GetServices<IHostedService>().OfType<PipelineHostedService>().ToArray();
        return registered.FirstOrDefault(service => string.Equals(service.PipelineName, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException(
                $"No pipeline named '{name}' is registered; registered: {(registered.Length == 0 ? "none (call AddPipeline)" : string.Join(", ", registered.Select(service => service.PipelineName)))}.");
    }
}
