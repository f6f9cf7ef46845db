using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>Builds bounded handoffs of any <see cref="HandoffKind"/>.</summary>
public static class Handoff
{
    /// <summary>Creates a bounded handoff of the kind, capacity and full mode that <paramref name="options"/> name.</summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="options">The options; validated before anything is created.</param>
    /// <returns>A channel of the chosen kind.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when an option is outside its allowed values; the message names the option and the allowed values.</exception>
    public static Channel<T> Create<T>(HandoffOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Capacity is < HandoffOptions.MinCapacity or > HandoffOptions.MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Capacity,
                $"Handoff:Capacity must be between {HandoffOptions.MinCapacity} and {HandoffOptions.MaxCapacity}, was {options.Capacity}.");
        }

        return options.Kind switch
        {
            HandoffKind.Channel => Channel.CreateBounded<T>(new BoundedChannelOptions(options.Capacity) { FullMode = options.FullMode }),
            HandoffKind.Condition or HandoffKind.Semaphore => throw new NotSupportedException($"Handoff:Kind {options.Kind} is not available yet."),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind,
                $"Handoff:Kind must be one of {string.Join(", ", Enum.GetNames<HandoffKind>())}, was {options.Kind}."),
        };
    }
}
