using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Pipeline;

/// <summary>Reading single values: each malformed one becomes an error naming its full key, the bad value and what is allowed.</summary>
internal static partial class PipelineConfigurationReader
{
    private static bool RequireSection(IConfigurationSection section, string[] allowed, List<string> errors)
    {
        // An empty string is how JSON's {} or null arrives; it holds no settings and is fine.
        if (string.IsNullOrEmpty(section.Value))
        {
            return true;
        }

        errors.Add($"{section.Path} must be a section with {string.Join(", ", allowed)}, was '{section.Value}'");
        return false;
    }

    /// <summary>Returns the section's value, or records that it must be <paramref name="allowed"/> and was a section.</summary>
    private static string? RequireValue(IConfigurationSection section, List<string> errors, string allowed = "a value")
    {
        if (section.Value is not null)
        {
            return section.Value;
        }

        var children = section.GetChildren().ToArray();
        var was = children.All(child => child.Key.All(char.IsAsciiDigit))
            ? $"a list: {string.Join(", ", children.Select(child => child.Value is { } text ? $"'{text}'" : "a section"))}"
            : $"a section with {string.Join(", ", children.Select(child => child.Key))}";
        errors.Add($"{section.Path} must be {allowed}, was {was}");
        return null;
    }

    /// <summary>
    /// Records the error of a key that names no setting. A number is an item of a JSON array where a section was expected: the
    /// error names the array and the item's value.
    /// </summary>
    private static void AddUnknownKey(IConfigurationSection section, string[] allowed, List<string> errors)
    {
        if (section.Key.Length > 0 && section.Key.All(char.IsAsciiDigit))
        {
            var parent = section.Path[..^(section.Key.Length + 1)];
            var value = section.Value is { } text ? $"'{text}'" : "a section";
            errors.Add($"{parent} must be a section with {string.Join(", ", allowed)}, was a list (item {section.Key}: {value})");
            return;
        }

        errors.Add($"{section.Path} is not a known setting; allowed: {string.Join(", ", allowed)}");
    }

    private static int? ReadInt(IConfigurationSection section, int min, int max, List<string> errors)
    {
        if (RequireValue(section, errors, $"an integer between {min} and {max}") is not { } text)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            errors.Add($"{section.Path} must be an integer between {min} and {max}, was '{text}'");
            return null;
        }

        // The range itself is checked by PipelineOptionsValidator, which also sees values set in code.
        return value;
    }

    private static double? ReadDouble(IConfigurationSection section, List<string> errors, string allowed = "a number between 0 and 1")
    {
        if (RequireValue(section, errors, allowed) is not { } text)
        {
            return null;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            errors.Add($"{section.Path} must be {allowed}, was '{text}'");
            return null;
        }

        // The range itself is checked by PipelineOptionsValidator, which also sees values set in code.
        return value;
    }

    private static bool? ReadBool(IConfigurationSection section, List<string> errors)
    {
        if (RequireValue(section, errors, "true or false") is not { } text)
        {
            return null;
        }

        if (!bool.TryParse(text, out var value))
        {
            errors.Add($"{section.Path} must be true or false, was '{text}'");
            return null;
        }

        return value;
    }

    private static TimeSpan? ReadTimeSpan(IConfigurationSection section, List<string> errors)
    {
        if (RequireValue(section, errors, "a time span such as 00:00:05") is not { } text)
        {
            return null;
        }

        // A bare number would be read as days ("1" = one day): a time span must say its unit with the c format's colons.
        if (!text.Contains(':', StringComparison.Ordinal) || !TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value))
        {
            errors.Add($"{section.Path} must be a time span such as 00:00:05, was '{text}'");
            return null;
        }

        return value;
    }

    private static TEnum? ReadEnum<TEnum>(IConfigurationSection section, List<string> errors)
        where TEnum : struct, Enum
    {
        if (RequireValue(section, errors, $"one of {string.Join(", ", Enum.GetNames<TEnum>())}") is not { } text)
        {
            return null;
        }

        // Names only: Enum.TryParse would also accept any number, defined or not.
        foreach (var name in Enum.GetNames<TEnum>())
        {
            if (string.Equals(name, text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return Enum.Parse<TEnum>(name);
            }
        }

        errors.Add($"{section.Path} must be one of {string.Join(", ", Enum.GetNames<TEnum>())}, was '{text}'");
        return null;
    }
}
