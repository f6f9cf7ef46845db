using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Pipeline.Redis;

/// <summary>
/// Validates <see cref="RedisStreamOptions"/>; every message names the full configuration key, the bad value and what is allowed,
/// e.g. <c>Pipelines:orders:Redis:BatchSize must be between 1 and 10000, was 0</c>. A connection string is never echoed: it may
/// hold a password.
/// </summary>
/// <remarks>
/// Named options are validated as the pipeline of the same name (<c>Pipelines:{name}:Redis</c>); unnamed ones under
/// <c>Redis</c>. <see cref="RedisStreamOptions.Group"/> and <see cref="RedisStreamOptions.Consumer"/> are checked only for a
/// pipeline that reads the stream (registered with <c>AddRedisStreamSource</c>): a producer needs neither. Thread-safe.
/// </remarks>
public sealed class RedisStreamOptionsValidator : IValidateOptions<RedisStreamOptions>
{
    /// <summary>Validates <paramref name="options"/> as the Redis settings of pipeline <paramref name="name"/>.</summary>
    /// <param name="name">The options' name: the pipeline's name, or <see langword="null"/> or empty for unnamed options.</param>
    /// <param name="options">The options.</param>
    /// <returns>Success, or a failure listing every error.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="options"/> is <see langword="null"/>.</exception>
    public ValidateOptionsResult Validate(string? name, RedisStreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Validate(SectionPath(name), options, requireGroup: false);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Returns the configuration path of pipeline <paramref name="name"/>'s Redis settings.</summary>
    internal static string SectionPath(string? name) =>
        string.IsNullOrEmpty(name) ? RedisStreamOptions.SectionName : $"Pipelines:{name}:{RedisStreamOptions.SectionName}";

    /// <summary>Returns the errors of a reading pipeline's <see cref="RedisStreamOptions.Group"/> and <see cref="RedisStreamOptions.Consumer"/>.</summary>
    internal static List<string> ValidateReader(string path, RedisStreamOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Group))
        {
            errors.Add($"{path}:Group must be the name of a consumer group, was '{options.Group}'");
        }

        if (string.IsNullOrWhiteSpace(options.Consumer))
        {
            errors.Add($"{path}:Consumer must be a consumer name (default: host name and process id), was '{options.Consumer}'");
        }

        return errors;
    }

    /// <summary>Returns every error of <paramref name="options"/>, keys prefixed with <paramref name="path"/>.</summary>
    internal static List<string> Validate(string path, RedisStreamOptions options, bool requireGroup)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            errors.Add($"{path}:ConnectionString must be a Redis connection string such as 'localhost:6379', was empty");
        }
        else
        {
            try
            {
                var parsed = ConfigurationOptions.Parse(options.ConnectionString);
                if (parsed.EndPoints.Count == 0)
                {
                    errors.Add($"{path}:ConnectionString must name at least one endpoint (host:port), has none");
                }
            }
            catch (ArgumentException exception)
            {
                // The parser's own message names the offending option, never the whole string (which may hold a password).
                errors.Add($"{path}:ConnectionString is not a valid Redis connection string: {exception.Message}");
            }
        }

        if (string.IsNullOrWhiteSpace(options.Stream))
        {
            errors.Add($"{path}:Stream must be the key of a stream, was '{options.Stream}'");
        }

        if (requireGroup)
        {
            errors.AddRange(ValidateReader(path, options));
        }

        if (options.BatchSize is < RedisStreamOptions.MinBatchSize or > RedisStreamOptions.MaxBatchSize)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{path}:BatchSize must be between {RedisStreamOptions.MinBatchSize} and {RedisStreamOptions.MaxBatchSize}, was {options.BatchSize}"));
        }

        if (options.ClaimIdleTime < RedisStreamOptions.MinClaimIdleTime || options.ClaimIdleTime > RedisStreamOptions.MaxClaimIdleTime)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{path}:ClaimIdleTime must be between {RedisStreamOptions.MinClaimIdleTime} and {RedisStreamOptions.MaxClaimIdleTime}, was {options.ClaimIdleTime}"));
        }

        if (options.MaxDeliveries is < RedisStreamOptions.MinMaxDeliveries or > RedisStreamOptions.MaxMaxDeliveries)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{path}:MaxDeliveries must be between {RedisStreamOptions.MinMaxDeliveries} and {RedisStreamOptions.MaxMaxDeliveries}, was {options.MaxDeliveries}"));
        }

        return errors;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> for <paramref name="parameterName"/> listing every error, if any.</summary>
    internal static void ThrowIfInvalid(RedisStreamOptions options, bool requireGroup, string parameterName)
    {
        var errors = Validate(RedisStreamOptions.SectionName, options, requireGroup);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), parameterName);
        }
    }

    /// <summary>Checks the group and consumer of the pipeline named <paramref name="pipelineName"/>, which reads the stream.</summary>
    internal sealed class Reader(string pipelineName) : IValidateOptions<RedisStreamOptions>
    {
        public ValidateOptionsResult Validate(string? name, RedisStreamOptions options)
        {
            if (!string.Equals(name, pipelineName, StringComparison.Ordinal))
            {
                return ValidateOptionsResult.Skip;
            }

            var errors = ValidateReader(SectionPath(name), options);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
