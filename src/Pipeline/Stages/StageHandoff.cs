using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>
/// The one place where the engine creates a stage's input handoff, so that dropped items are counted whatever the kind.
/// </summary>
internal static class StageHandoff
{
    /// <summary>Creates a handoff per <paramref name="options"/>; <paramref name="itemDropped"/> sees every item its full mode drops.</summary>
    /// <exception cref="NotSupportedException">A dropping full mode on a kind that cannot report its drops yet.</exception>
    public static Channel<Envelope<T>> Create<T>(HandoffOptions options, Action<Envelope<T>> itemDropped)
    {
        if (options.FullMode == BoundedChannelFullMode.Wait)
        {
            return Handoff.Create<Envelope<T>>(options);
        }

        // Handoff.Create has no drop callback yet; the BCL channel takes one directly. Every other kind must report its drops
        // before it can run a dropping full mode, or the accounting would silently lose items.
        if (options.Kind == HandoffKind.Channel)
        {
            return Channel.CreateBounded(new BoundedChannelOptions(options.Capacity) { FullMode = options.FullMode }, itemDropped);
        }

        throw new NotSupportedException(
            $"Handoff:FullMode {options.FullMode} with Handoff:Kind {options.Kind} is not available yet: that kind does not report dropped items.");
    }
}
