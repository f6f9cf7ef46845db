using Microsoft.Extensions.Options;

namespace Pipeline;

/// <summary>Checks the range of <see cref="ResilienceSettings.Timeout"/> (source-generated); validate under the key of the <c>Resilience</c> section.</summary>
[OptionsValidator]
internal sealed partial class ResilienceSettingsValidator : IValidateOptions<ResilienceSettings>;

/// <summary>Checks the ranges of <see cref="RetrySettings"/> (source-generated); validate under the key of the <c>Retry</c> section.</summary>
[OptionsValidator]
internal sealed partial class RetrySettingsValidator : IValidateOptions<RetrySettings>;

/// <summary>Checks the ranges of <see cref="RateLimitSettings"/> (source-generated); validate under the key of the <c>RateLimit</c> section.</summary>
[OptionsValidator]
internal sealed partial class RateLimitSettingsValidator : IValidateOptions<RateLimitSettings>;

/// <summary>Checks the ranges of <see cref="CircuitBreakerSettings"/>, Polly's (source-generated); validate under the key of the <c>CircuitBreaker</c> section.</summary>
[OptionsValidator]
internal sealed partial class CircuitBreakerSettingsValidator : IValidateOptions<CircuitBreakerSettings>;
