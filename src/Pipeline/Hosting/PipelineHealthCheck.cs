using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Pipeline;

/// <summary>
/// Reports one hosted pipeline's health: healthy while it runs (or after its source ended and it drained), degraded while it
/// starts or drains after a stop, unhealthy once it has faulted or been aborted.
/// </summary>
public sealed class PipelineHealthCheck : IHealthCheck
{
    private readonly PipelineHostedService _service;

    internal PipelineHealthCheck(PipelineHostedService service)
    {
        _service = service;
    }

    /// <summary>Reports the pipeline's health.</summary>
    /// <param name="context">The health check's context.</param>
    /// <param name="cancellationToken">Not used: the check only reads the run's state.</param>
    /// <returns>The pipeline's health, with its per-stage counts in the data when it has run.</returns>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_service.Run is not { } run)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"Pipeline {_service.PipelineName} has not started."));
        }

        var data = run.GetStatistics().ToDictionary(stage => stage.StageName, stage => (object)stage.ToString());
        if (run.Completion.IsCompletedSuccessfully)
        {
            var result = run.Completion.Result;
            return Task.FromResult(result.Status switch
            {
                PipelineStatus.Faulted => HealthCheckResult.Unhealthy($"Pipeline {run.PipelineName} faulted in stage {result.FaultedStage}.", result.Exception, data),
                PipelineStatus.Aborted => HealthCheckResult.Unhealthy($"Pipeline {run.PipelineName} was aborted.", data: data),
                _ => HealthCheckResult.Healthy($"Pipeline {run.PipelineName} ended: {result.Status}.", data),
            });
        }

        if (run.IsStopRequested)
        {
            return Task.FromResult(HealthCheckResult.Degraded($"Pipeline {run.PipelineName} is draining.", data: data));
        }

        return Task.FromResult(run.Ready.IsCompleted
            ? HealthCheckResult.Healthy($"Pipeline {run.PipelineName} is running.", data)
            : HealthCheckResult.Degraded($"Pipeline {run.PipelineName} is starting.", data: data));
    }
}
