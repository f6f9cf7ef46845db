namespace Pipeline;

/// <summary>What travels on an ordered stage's lanes from its workers to its collector.</summary>
internal sealed partial class OrderedParallelExecutor<TIn, TOut>
{
    private enum LaneMessageKind
    {
        /// <summary>One output of an input, not its last.</summary>
        Output,

        /// <summary>The last output of an input that succeeded, with that input; the collector counts both.</summary>
        LastOutput,

        /// <summary>Ends an input that succeeded with no output; the collector counts it.</summary>
        Succeeded,

        /// <summary>Ends an input that the worker already accounted for (failed, discarded, or taken over at the deadline).</summary>
        Accounted,
    }

    /// <summary>One output of an input (the last with its input), or the marker that ends an input with no output left to send.</summary>
    private readonly struct LaneMessage(Envelope<TOut> output, Envelope<TIn> input, LaneMessageKind kind)
    {
        public Envelope<TOut> Output { get; } = output;

        public Envelope<TIn> Input { get; } = input;

        public LaneMessageKind Kind { get; } = kind;
    }
}
