using System.Threading.Channels;

namespace Pipeline.Handoffs;

/// <summary>Builds bounded handoffs of any <see cref="HandoffKind"/>.</summary>
/// <remarks>
/// Every channel built here implements <see cref="IHandoff"/>, which gives its settings and its
/// <see cref="IHandoff.Dropped"/> count whatever the kind; the kinds <see cref="HandoffKind.Condition"/> and
/// <see cref="HandoffKind.Semaphore"/> also implement <see cref="IBlockingHandoff{T}"/>.
/// </remarks>
public static class Handoff
{
    /// <summary>Creates a bounded handoff of the kind, capacity and full mode that <paramref name="options"/> name.</summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="options">The options; validated before anything is created.</param>
    /// <returns>A channel of the chosen kind, which also implements <see cref="IHandoff"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when an option is outside its allowed values; the message names the option and the allowed values.</exception>
    public static Channel<T> Create<T>(HandoffOptions options) => Create<T>(options, itemDropped: null);

    /// <summary>
    /// Creates a bounded handoff of the kind, capacity and full mode that <paramref name="options"/> name, reporting
    /// each item that a drop mode discards to <paramref name="itemDropped"/>.
    /// </summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="options">The options; validated before anything is created.</param>
    /// <param name="itemDropped">
    /// Called with each dropped item, on the writing thread and outside the handoff's lock; may be <see langword="null"/>.
    /// Dropped items are counted in <see cref="IHandoff.Dropped"/> either way.
    /// </param>
    /// <returns>A channel of the chosen kind, which also implements <see cref="IHandoff"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when an option is outside its allowed values; the message names the option and the allowed values.</exception>
    public static Channel<T> Create<T>(HandoffOptions options, Action<T>? itemDropped)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), string.Join("; ", errors));
        }

        return options.Kind switch
        {
            HandoffKind.Condition => new ConditionChannel<T>(options.Capacity, options.FullMode, itemDropped),
            HandoffKind.Semaphore => new SemaphoreChannel<T>(options.Capacity, options.FullMode, itemDropped),
            _ => new BoundedChannelHandoff<T>(options.Capacity, options.FullMode, itemDropped),
        };
    }

    /// <summary>Gets how many items a handoff built by <see cref="Create{T}(HandoffOptions, Action{T})"/> has dropped.</summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="channel">A channel built by this factory.</param>
    /// <returns>The value of <see cref="IHandoff.Dropped"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="channel"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="channel"/> was not built by this factory.</exception>
    public static long GetDropped<T>(Channel<T> channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return channel is IHandoff handoff
            ? handoff.Dropped
            : throw new ArgumentException("The channel was not built by Handoff.Create, so it does not count dropped items.", nameof(channel));
    }
}
