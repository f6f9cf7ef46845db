using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Pipeline;

/// <summary>
/// The checks of single values. Each accepts only text that the configuration binder reads the same way (never more), so that
/// a value that passes here binds without an error: integers and numbers in the invariant culture, <c>true</c>/<c>false</c>, time
/// spans with their colons, enum values by name.
/// </summary>
internal sealed partial class PipelineConfigurationValidator
{
    private static bool RequireSection(IConfigurationSection section, IEnumerable<string> allowed, List<ConfigurationError> errors)
    {
        // An empty string is how JSON's {} or null arrives; it holds no settings and is fine.
        if (string.IsNullOrEmpty(section.Value))
        {
            return true;
        }

        errors.Add(new(section.Path, $"{section.Path} must be a section with {string.Join(", ", allowed)}, was '{section.Value}'"));
        return false;
    }

    /// <summary>Returns the section's value, or records that it must be <paramref name="allowed"/> and was a section or a list.</summary>
    private static string? RequireValue(IConfigurationSection section, List<ConfigurationError> errors, string allowed)
    {
        if (section.Value is not null)
        {
            return section.Value;
        }

        var children = section.GetChildren().ToArray();
        var was = children.All(child => child.Key.All(char.IsAsciiDigit))
            ? $"a list: {string.Join(", ", children.Select(child => child.Value is { } text ? $"'{text}'" : "a section"))}"
            : $"a section with {string.Join(", ", children.Select(child => child.Key))}";
        errors.Add(new(section.Path, $"{section.Path} must be {allowed}, was {was}"));
        return null;
    }

    /// <summary>
    /// Records the error of a key that names no setting. A number is an item of a JSON array where a section was expected: the
    /// error names the array and the item's value.
    /// </summary>
    private static void AddUnknownKey(IConfigurationSection section, Setting[] allowed, List<ConfigurationError> errors)
    {
        if (section.Key.Length > 0 && section.Key.All(char.IsAsciiDigit))
        {
            var parent = section.Path[..^(section.Key.Length + 1)];
            var value = section.Value is { } text ? $"'{text}'" : "a section";
            errors.Add(new(parent, $"{parent} must be a section with {Names(allowed)}, was a list (item {section.Key}: {value})"));
            return;
        }

        errors.Add(new(section.Path, $"{section.Path} is not a known setting; allowed: {Names(allowed)}"));
    }

    /// <summary>An integer; its range is the options' validator's, which also sees values set in code.</summary>
    private static Action<IConfigurationSection, List<ConfigurationError>> Integer(int min, int max) => (section, errors) =>
    {
        var allowed = $"an integer between {min} and {max}";
        if (RequireValue(section, errors, allowed) is { } text
            && !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            errors.Add(new(section.Path, $"{section.Path} must be {allowed}, was '{text}'"));
        }
    };

    /// <summary>A number; its range is the options' validator's, which also sees values set in code.</summary>
    private static Action<IConfigurationSection, List<ConfigurationError>> Number(string allowed = "a number between 0 and 1") => (section, errors) =>
    {
        if (RequireValue(section, errors, allowed) is { } text && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            errors.Add(new(section.Path, $"{section.Path} must be {allowed}, was '{text}'"));
        }
    };

    private static Action<IConfigurationSection, List<ConfigurationError>> Boolean() => (section, errors) =>
    {
        if (RequireValue(section, errors, "true or false") is { } text && !bool.TryParse(text, out _))
        {
            errors.Add(new(section.Path, $"{section.Path} must be true or false, was '{text}'"));
        }
    };

    private static Action<IConfigurationSection, List<ConfigurationError>> Time() => (section, errors) =>
    {
        // A bare number would be read as days ("1" = one day): a time span must say its unit with the c format's colons.
        if (RequireValue(section, errors, "a time span such as 00:00:05") is { } text
            && (!text.Contains(':', StringComparison.Ordinal) || !TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out _)))
        {
            errors.Add(new(section.Path, $"{section.Path} must be a time span such as 00:00:05, was '{text}'"));
        }
    };

    /// <summary>An enum value by name (any case). The binder would also take any number, defined or not, and lists of names.</summary>
    private static Action<IConfigurationSection, List<ConfigurationError>> Enum<TEnum>()
        where TEnum : struct, Enum => (section, errors) =>
    {
        var names = System.Enum.GetNames<TEnum>();
        if (RequireValue(section, errors, $"one of {string.Join(", ", names)}") is { } text
            && !names.Any(name => string.Equals(name, text.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add(new(section.Path, $"{section.Path} must be one of {string.Join(", ", names)}, was '{text}'"));
        }
    };

    /// <summary>Any text; what it must name is the options' validator's.</summary>
    private static Action<IConfigurationSection, List<ConfigurationError>> Text(string allowed) => (section, errors) => RequireValue(section, errors, allowed);
}
