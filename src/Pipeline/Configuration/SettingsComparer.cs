namespace Pipeline;

/// <summary>Finds the settings of a stage that differ between two resolutions and cannot change while a run goes on.</summary>
internal static class SettingsComparer
{
    /// <summary>Returns the full key of every setting that changes the run's shape and differs between <paramref name="current"/> and <paramref name="fresh"/>.</summary>
    public static IEnumerable<string> ShapeChanges(string key, ResolvedStageOptions current, ResolvedStageOptions fresh)
    {
        if (current.Parallelism != fresh.Parallelism)
        {
            yield return $"{key}:Parallelism ({current.Parallelism} → {fresh.Parallelism})";
        }

        if (current.Ordered != fresh.Ordered)
        {
            yield return $"{key}:Ordered ({current.Ordered} → {fresh.Ordered})";
        }

        if (current.OnError != fresh.OnError)
        {
            yield return $"{key}:OnError ({current.OnError} → {fresh.OnError})";
        }

        if (current.Handoff.Kind != fresh.Handoff.Kind || current.Handoff.Capacity != fresh.Handoff.Capacity || current.Handoff.FullMode != fresh.Handoff.FullMode)
        {
            yield return $"{key}:Handoff ({current.Handoff.Kind}/{current.Handoff.Capacity}/{current.Handoff.FullMode} → {fresh.Handoff.Kind}/{fresh.Handoff.Capacity}/{fresh.Handoff.FullMode})";
        }

        var was = current.Resilience;
        var now = fresh.Resilience;
        if (was?.Pipeline != now?.Pipeline)
        {
            yield return $"{key}:Resilience:Pipeline";
        }

        if (was?.Timeout != now?.Timeout)
        {
            yield return $"{key}:Resilience:Timeout";
        }

        if (!SameRetry(was?.Retry, now?.Retry))
        {
            yield return $"{key}:Resilience:Retry";
        }

        if (!SameBreaker(was?.CircuitBreaker, now?.CircuitBreaker))
        {
            yield return $"{key}:Resilience:CircuitBreaker";
        }
    }

    private static bool SameBreaker(CircuitBreakerSettings? a, CircuitBreakerSettings? b) =>
        (a is null && b is null)
        || (a is not null && b is not null && a.FailureRatio == b.FailureRatio && a.MinimumThroughput == b.MinimumThroughput
            && a.SamplingDuration == b.SamplingDuration && a.BreakDuration == b.BreakDuration && a.WhenOpen == b.WhenOpen);

    private static bool SameRetry(RetrySettings? a, RetrySettings? b) =>
        (a is null && b is null)
        || (a is not null && b is not null && a.MaxRetryAttempts == b.MaxRetryAttempts && a.Delay == b.Delay && a.MaxDelay == b.MaxDelay
            && a.BackoffType == b.BackoffType && a.UseJitter == b.UseJitter);
}
