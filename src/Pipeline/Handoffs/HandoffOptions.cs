using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>Options of one bounded handoff: which implementation, how many items it holds, and what a full handoff does with a write.</summary>
public sealed class HandoffOptions
{
    /// <summary>The smallest allowed <see cref="Capacity"/>.</summary>
    public const int MinCapacity = 1;

    /// <summary>The largest allowed <see cref="Capacity"/>.</summary>
    public const int MaxCapacity = 1_048_576;

    /// <summary>The default <see cref="Capacity"/>.</summary>
    public const int DefaultCapacity = 1024;

    /// <summary>The configuration key prefix that <see cref="Validate(string)"/> uses when none is given.</summary>
    public const string DefaultKeyPrefix = "Handoff";

    /// <summary>Gets or sets the implementation.</summary>
    /// <value>The default value is <see cref="HandoffKind.Condition"/>.</value>
    public HandoffKind Kind { get; set; } = HandoffKind.Condition;

    /// <summary>Gets or sets how many items the handoff holds before writers wait or items are dropped.</summary>
    /// <value>The default value is 1024. Allowed: 1 to 1,048,576.</value>
    public int Capacity { get; set; } = DefaultCapacity;

    /// <summary>Gets or sets what a write does when the handoff is full.</summary>
    /// <value>The default value is <see cref="BoundedChannelFullMode.Wait"/>.</value>
    public BoundedChannelFullMode FullMode { get; set; } = BoundedChannelFullMode.Wait;

    /// <summary>
    /// Checks every option and describes each one that is outside its allowed values. This is the single place
    /// where handoff options are validated: <see cref="Handoff.Create{T}(HandoffOptions)"/> calls it, and so can
    /// an options validator that reports configuration errors at start.
    /// </summary>
    /// <param name="keyPrefix">
    /// The configuration key of these options, used to name each option in the messages, for example
    /// <c>Pipelines:access-logs:Stages:parse:Handoff</c>.
    /// </param>
    /// <returns>
    /// One message per invalid option, naming the full key, the allowed values and the actual value
    /// (<c>Handoff:Capacity must be between 1 and 1048576, was 0</c>); empty when the options are valid.
    /// </returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="keyPrefix"/> is <see langword="null"/>.</exception>
    public IReadOnlyList<string> Validate(string keyPrefix = DefaultKeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(keyPrefix);
        List<string>? errors = null;
        if (!Enum.IsDefined(Kind))
        {
            (errors ??= []).Add($"{keyPrefix}:Kind must be one of {string.Join(", ", Enum.GetNames<HandoffKind>())}, was {Kind}");
        }

        if (Capacity is < MinCapacity or > MaxCapacity)
        {
            (errors ??= []).Add($"{keyPrefix}:Capacity must be between {MinCapacity} and {MaxCapacity}, was {Capacity}");
        }

        if (!Enum.IsDefined(FullMode))
        {
            (errors ??= []).Add($"{keyPrefix}:FullMode must be one of {string.Join(", ", Enum.GetNames<BoundedChannelFullMode>())}, was {FullMode}");
        }

        return errors ?? (IReadOnlyList<string>)[];
    }
}
