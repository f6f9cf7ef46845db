namespace Pipeline;

/// <summary>
/// How the engine acknowledges the items of an <see cref="IAcknowledgingSource{T}"/>: coalesced by count and time, and how far the
/// source may run ahead of its last acknowledgement. Ignored for a plain <see cref="ISource{T}"/>.
/// </summary>
/// <remarks>Set on <see cref="PipelineBuilder.Acknowledgement"/> before <c>Build</c>; read once per run, when it starts.</remarks>
public sealed class AcknowledgementSettings
{
    /// <summary>The default of <see cref="MaxCount"/>.</summary>
    public const int DefaultMaxCount = 1_000;

    /// <summary>The default of <see cref="MaxPending"/>.</summary>
    public const int DefaultMaxPending = 65_536;

    /// <summary>The largest allowed <see cref="MaxPending"/>.</summary>
    public const int MaxMaxPending = 1 << 30;

    /// <summary>The default of <see cref="MaxDelay"/>: one second.</summary>
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets after how many newly accounted-for items the source is acknowledged.</summary>
    /// <value>The default value is 1,000. Allowed: 1 or more.</value>
    public int MaxCount { get; set; } = DefaultMaxCount;

    /// <summary>Gets or sets how long at most after the watermark moved the source is acknowledged.</summary>
    /// <value>The default value is one second. Allowed: more than zero.</value>
    public TimeSpan MaxDelay { get; set; } = DefaultMaxDelay;

    /// <summary>
    /// Gets or sets how many items the source may have yielded that the last acknowledgement does not cover (in flight, finished
    /// behind an item in flight, or accounted for and not yet acknowledged); the source waits when it is reached, and an
    /// acknowledgement is sent at once. Rounded up to a power of two. This bounds what a restart after a crash delivers again.
    /// </summary>
    /// <value>The default value is 65,536. Allowed: 2 to 1,073,741,824.</value>
    public int MaxPending { get; set; } = DefaultMaxPending;

    internal AcknowledgementSettings Clone() => new() { MaxCount = MaxCount, MaxDelay = MaxDelay, MaxPending = MaxPending };

    /// <summary>Throws <see cref="ArgumentException"/> when a setting is out of range, naming it, its value and the allowed values.</summary>
    internal void Validate(string prefix) => Validate(prefix, largestBatch: null);

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when a setting is out of range, or when <see cref="MaxPending"/> (rounded up to a
    /// power of two) is smaller than <paramref name="largestBatch"/>: a batch could then never fill, and every one would wait for its
    /// time limit.
    /// </summary>
    internal void Validate(string prefix, (string Stage, int Size)? largestBatch)
    {
        if (largestBatch is { } batch && MaxPending is >= 2 and <= MaxMaxPending
            && System.Numerics.BitOperations.RoundUpToPowerOf2((uint)MaxPending) < (uint)batch.Size)
        {
            throw new ArgumentException(
                $"{prefix}MaxPending must be at least the largest batch size, {batch.Size} (stage '{batch.Stage}'), or no batch could fill; was {MaxPending}.");
        }

        if (MaxCount < 1)
        {
            throw new ArgumentException($"{prefix}MaxCount must be 1 or more, was {MaxCount}.");
        }

        if (MaxDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{prefix}MaxDelay must be more than zero, was {MaxDelay}.");
        }

        if (MaxPending is < 2 or > MaxMaxPending)
        {
            throw new ArgumentException($"{prefix}MaxPending must be 2 to {MaxMaxPending}, was {MaxPending}.");
        }
    }
}
