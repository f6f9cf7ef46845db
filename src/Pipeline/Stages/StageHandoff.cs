using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>The one place where the engine creates a stage's input handoff, so that every dropped item is counted whatever the kind.</summary>
internal static class StageHandoff
{
    /// <summary>Creates a handoff per <paramref name="options"/>; <paramref name="itemDropped"/> sees every item its full mode drops.</summary>
    public static Channel<Envelope<T>> Create<T>(HandoffOptions options, Action<Envelope<T>> itemDropped) =>
        Handoff.Create(options, itemDropped);
}
