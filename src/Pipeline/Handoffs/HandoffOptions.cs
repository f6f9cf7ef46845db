using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>Options of one bounded handoff: which implementation, how many items it holds, and what a full handoff does with a write.</summary>
/// <remarks>
/// In a pipeline the same type holds each level's settings (<c>PipelineBuilder.Handoff</c>, <c>StageOptions.Handoff</c>,
/// <c>Pipelines:{name}:Handoff</c>, <c>Pipelines:{name}:Stages:{stage}:Handoff</c>): a member that was set at a level, in code or by a
/// configuration key, overrides the levels below it; a member never set is inherited. Not thread-safe: set it before the pipeline
/// starts.
/// </remarks>
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

    private HandoffKind _kind = HandoffKind.Condition;
    private int _capacity = DefaultCapacity;
    private BoundedChannelFullMode _fullMode = BoundedChannelFullMode.Wait;

    /// <summary>The members that were set; the others are inherited when the levels of a pipeline are merged.</summary>
    [Flags]
    internal enum Members
    {
        None = 0,
        Kind = 1,
        Capacity = 2,
        FullMode = 4,
    }

    /// <summary>Gets or sets the implementation.</summary>
    /// <value>The default value is <see cref="HandoffKind.Condition"/>.</value>
    public HandoffKind Kind
    {
        get => _kind;
        set
        {
            _kind = value;
            Given |= Members.Kind;
        }
    }

    /// <summary>Gets or sets how many items the handoff holds before writers wait or items are dropped.</summary>
    /// <value>The default value is 1024. Allowed: 1 to 1,048,576.</value>
    public int Capacity
    {
        get => _capacity;
        set
        {
            _capacity = value;
            Given |= Members.Capacity;
        }
    }

    /// <summary>Gets or sets what a write does when the handoff is full.</summary>
    /// <value>The default value is <see cref="BoundedChannelFullMode.Wait"/>.</value>
    public BoundedChannelFullMode FullMode
    {
        get => _fullMode;
        set
        {
            _fullMode = value;
            Given |= Members.FullMode;
        }
    }

    /// <summary>Gets the members that were set, in code or by configuration; the others keep their defaults and are inherited.</summary>
    internal Members Given { get; private set; }

    /// <summary>
    /// Returns the options of one handoff from its levels, most specific first: each member comes from the first level that set it,
    /// or is the default when none did. Levels may be <see langword="null"/>.
    /// </summary>
    internal static HandoffOptions Merge(params ReadOnlySpan<HandoffOptions?> levels)
    {
        var merged = new HandoffOptions();
        for (var index = levels.Length - 1; index >= 0; index--)
        {
            if (levels[index] is not { } level)
            {
                continue;
            }

            if ((level.Given & Members.Kind) != 0)
            {
                merged.Kind = level.Kind;
            }

            if ((level.Given & Members.Capacity) != 0)
            {
                merged.Capacity = level.Capacity;
            }

            if ((level.Given & Members.FullMode) != 0)
            {
                merged.FullMode = level.FullMode;
            }
        }

        return merged;
    }

    /// <summary>Returns a copy that has the same values and the same members set.</summary>
    internal HandoffOptions Clone() => new() { _kind = _kind, _capacity = _capacity, _fullMode = _fullMode, Given = Given };

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
