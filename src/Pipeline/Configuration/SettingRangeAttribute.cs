using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Pipeline;

/// <summary>
/// The allowed range of a numeric or time-span setting, checked by the source-generated options validators
/// (<c>[OptionsValidator]</c>). A failure names the full configuration key, the allowed values and the value:
/// <c>Pipelines:access-logs:Stages:parse:Parallelism must be between 1 and 1024, was 0</c>. The key is the name the options were
/// validated under (the key of their section) followed by the setting's name. A <see langword="null"/> value is valid: unset.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class SettingRangeAttribute : ValidationAttribute
{
    private readonly double _minimum;
    private readonly double? _maximum;
    private readonly TimeSpan? _minimumTime;
    private readonly TimeSpan _maximumTime;

    /// <summary>Allows <paramref name="minimum"/> or more.</summary>
    public SettingRangeAttribute(double minimum) => _minimum = minimum;

    /// <summary>Allows <paramref name="minimum"/> to <paramref name="maximum"/>, both included unless <see cref="MinimumIsExclusive"/>.</summary>
    public SettingRangeAttribute(double minimum, double maximum)
    {
        _minimum = minimum;
        _maximum = maximum;
    }

    /// <summary>Allows the time spans <paramref name="minimum"/> to <paramref name="maximum"/> (constant format, e.g. <c>1.00:00:00</c>), both included.</summary>
    public SettingRangeAttribute(string minimum, string maximum)
    {
        _minimumTime = TimeSpan.ParseExact(minimum, "c", CultureInfo.InvariantCulture);
        _maximumTime = TimeSpan.ParseExact(maximum, "c", CultureInfo.InvariantCulture);
    }

    /// <summary>Gets or sets whether the minimum itself is outside the range (<c>more than 0, up to 1000000</c>).</summary>
    public bool MinimumIsExclusive { get; set; }

    /// <inheritdoc/>
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        string? allowed = value switch
        {
            null => null,
            TimeSpan time when _minimumTime is { } minimum => time >= minimum && time <= _maximumTime ? null : $"between {minimum} and {_maximumTime}",
            IConvertible number when _minimumTime is null => Check(number.ToDouble(CultureInfo.InvariantCulture)),
            _ => throw new InvalidOperationException($"{nameof(SettingRangeAttribute)} does not apply to {value.GetType()}."),
        };
        if (allowed is null)
        {
            return ValidationResult.Success;
        }

        // The generated validators name a member "{name}.{member}", where the name is the options' section key.
        var member = validationContext.MemberName ?? validationContext.DisplayName;
        var display = validationContext.DisplayName;
        var key = display.EndsWith($".{member}", StringComparison.Ordinal) ? $"{display[..^(member.Length + 1)]}:{member}" : display;
        return new ValidationResult(string.Create(CultureInfo.InvariantCulture, $"{key} must be {allowed}, was {value}"));
    }

    private string? Check(double number)
    {
        var aboveMinimum = MinimumIsExclusive ? number > _minimum : number >= _minimum;
        return _maximum switch
        {
            null => aboveMinimum ? null : string.Create(CultureInfo.InvariantCulture, $"{_minimum} or more"),
            { } maximum when MinimumIsExclusive => aboveMinimum && number <= maximum ? null : string.Create(CultureInfo.InvariantCulture, $"more than {_minimum}, up to {maximum}"),
            { } maximum => aboveMinimum && number <= maximum ? null : string.Create(CultureInfo.InvariantCulture, $"between {_minimum} and {maximum}"),
        };
    }
}
