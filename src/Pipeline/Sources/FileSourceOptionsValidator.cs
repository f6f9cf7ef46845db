using System.Globalization;
using Microsoft.Extensions.Options;

namespace Pipeline;

/// <summary>
/// Validates <see cref="FileSourceOptions"/>; every message names the full configuration key, the bad value and what is allowed,
/// e.g. <c>Input:PollInterval must be between 00:00:00.0100000 and 1.00:00:00, was 00:00:00</c>.
/// </summary>
/// <param name="sectionPath">The configuration section the options are bound from, e.g. <c>Input</c>; prefixes every key in the messages.</param>
public sealed class FileSourceOptionsValidator(string sectionPath) : IValidateOptions<FileSourceOptions>
{
    /// <summary>Validates <paramref name="options"/>.</summary>
    /// <param name="name">The options' name; every name is validated.</param>
    /// <param name="options">The options.</param>
    /// <returns>Success, or a failure listing every error.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="options"/> is <see langword="null"/>.</exception>
    public ValidateOptionsResult Validate(string? name, FileSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            errors.Add($"{sectionPath}:Path must be the path of a file, was '{options.Path}'");
        }

        if (options.CheckpointPath is { } checkpoint && (string.IsNullOrWhiteSpace(checkpoint) || SamePath(checkpoint, options.Path)))
        {
            errors.Add($"{sectionPath}:CheckpointPath must be a file path other than {sectionPath}:Path, was '{checkpoint}'");
        }

        if (options.PollInterval < FileSourceOptions.MinPollInterval || options.PollInterval > FileSourceOptions.MaxPollInterval)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{sectionPath}:PollInterval must be between {FileSourceOptions.MinPollInterval} and {FileSourceOptions.MaxPollInterval}, was {options.PollInterval}"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool SamePath(string checkpoint, string? path)
        => !string.IsNullOrWhiteSpace(path) && !string.IsNullOrWhiteSpace(checkpoint)
            && string.Equals(Path.GetFullPath(checkpoint), Path.GetFullPath(path), StringComparison.Ordinal);
}
