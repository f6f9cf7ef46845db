using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pipeline.Handoffs;

/// <summary>
/// A bounded spin that a reader of an empty handoff, or a writer of a full one, may do before it parks, when the
/// other side is running on another core: that side usually makes the item or the room within a few hundred
/// nanoseconds, far sooner than a park, a wake-up and a thread-pool hop take.
/// </summary>
/// <remarks>
/// <para>
/// A spin never waits for anything: it ends after 2 µs at most and the caller then parks as it would have. The caller
/// decides whether the other side can be running: nobody parked on either side. A party that was woken and has not
/// resumed yet does not count as parked: it is about to run, and spinning for it is how a reader and a writer on two
/// cores come to pass items without parking at all. At most one caller per side of each handoff spins at a time, each
/// for at most 2 µs, so a spin delays a pool thread briefly but never for as long as it would take the party it waits
/// for to be scheduled behind it. An adaptive credit stops a side spinning where its spins keep failing (the other
/// side is queued behind it, running but slow, or descheduled), and probes again now and then. A machine with one core
/// never spins.
/// </para>
/// <para>
/// The gate's fields are hints, written without a lock: a lost update changes when the next spin happens, never what
/// a read or write does.
/// </para>
/// </remarks>
internal static class HandoffSpin
{
    /// <summary>The longest a caller spins before it parks: 2 µs, in <see cref="Stopwatch"/> ticks.</summary>
    private static readonly long s_spinLimit = Math.Max(1, Stopwatch.Frequency / 500_000);

    /// <summary>Whether this machine can spin at all: more than one core.</summary>
    private static readonly bool s_canSpin = Environment.ProcessorCount > 1;

    /// <summary>
    /// The most credit a side keeps. A successful spin adds 1, a failed one costs <see cref="FailureCost"/>: full credit
    /// tolerates four failures in a row.
    /// </summary>
    private const int MaxCredit = 16;

    /// <summary>The padding either side of a <see cref="Gate"/>'s fields, in bytes: two 64-byte lines, which adjacent-line prefetch moves together.</summary>
    private const int CacheLine = 128;

    /// <summary>What one failed spin costs in credit.</summary>
    private const int FailureCost = 4;

    /// <summary>A side out of credit still probes with one attempt in this many.</summary>
    private const int ProbeInterval = 64;

    /// <summary>
    /// Called, when set, as a spin begins (the gate taken, before the first check), with the spin's state: lets a test act
    /// during a spin, for example complete the handoff, instead of racing its 2 µs. Null in production.
    /// </summary>
    internal static Action<object>? SpinObserver { get; set; }

    /// <summary>Spins on <paramref name="ready"/> for at most 2 µs if this side's gate is free and it has credit.</summary>
    /// <typeparam name="TState">The handoff whose state the predicate reads.</typeparam>
    /// <param name="gate">This side's gate.</param>
    /// <param name="state">Passed to <paramref name="ready"/>.</param>
    /// <param name="ready">
    /// Reads, without a lock, whether the caller need not park; a static lambda, so nothing is allocated. It is
    /// checked at least once, however late that first check comes, and the gate is freed even if it throws.
    /// </param>
    /// <returns><see langword="true"/> when <paramref name="ready"/> became true while spinning.</returns>
    public static bool Until<TState>(ref Gate gate, TState state, Func<TState, bool> ready)
        where TState : class
    {
        if (!gate.IsEnabled || Volatile.Read(ref gate.Spinning) != 0)
        {
            return false;
        }

        if (gate.Credit <= 0 && ++gate.Skipped % ProbeInterval != 0)
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref gate.Spinning, 1, 0) != 0)
        {
            return false;
        }

        bool became = false;
        try
        {
            SpinObserver?.Invoke(state);
            long started = Stopwatch.GetTimestamp();
            do
            {
                Thread.SpinWait(gate.PollIterations);
                if (ready(state))
                {
                    became = true;
                    break;
                }
            }
            while (Stopwatch.GetTimestamp() - started < s_spinLimit);
        }
        finally
        {
            gate.Credit = became ? Math.Min(gate.Credit + 1, MaxCredit) : Math.Max(gate.Credit - FailureCost, 0);
            Volatile.Write(ref gate.Spinning, 0);
        }

        return became;
    }

    /// <summary>
    /// One side's spin state: who spins now, and how well spinning has paid off lately. Written by every spin of its side, so
    /// padded onto a cache line of its own (128 bytes either side, as the BCL's <c>ConcurrentQueue</c> pads its head and
    /// tail): the other side, and every call reading the handoff's other fields, would otherwise lose that line at each spin.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = (2 * CacheLine) + 20)]
    internal struct Gate
    {
        /// <summary>1 while a caller of this side spins; 0 otherwise.</summary>
        [FieldOffset(CacheLine)]
        public int Spinning;

        /// <summary>How many more failed spins this side tolerates, 0 to <see cref="MaxCredit"/>.</summary>
        [FieldOffset(CacheLine + 4)]
        public int Credit;

        /// <summary>Attempts made while out of credit, counting to the next probe.</summary>
        [FieldOffset(CacheLine + 8)]
        public int Skipped;

        /// <summary>Whether this side never spins.</summary>
        [FieldOffset(CacheLine + 12)]
        public bool Disabled;

        /// <summary>
        /// How many <see cref="Thread.SpinWait"/> iterations a spinner waits between two looks at the handoff: 1 at
        /// capacity 1, 4 above.
        /// </summary>
        [FieldOffset(CacheLine + 16)]
        public int PollIterations;

        /// <summary>Gets a value indicating whether callers of this side may spin at all: enabled, on a machine of more than one core.</summary>
        public readonly bool IsEnabled => s_canSpin && !Disabled;

        /// <summary>Creates a gate with full credit, or one that never lets a caller spin.</summary>
        /// <param name="capacity">
        /// The handoff's capacity. At capacity 1 every item is a handoff from one side to the other, so a spinner looks
        /// after every iteration and takes the item or the room as soon as it appears. At larger capacities a spinner
        /// looks every four iterations: the side it waits for then puts several items (or frees several slots) in a row
        /// without losing the ring's cache lines to every look, which is worth more than noticing the first a little
        /// sooner.
        /// </param>
        /// <param name="enabled">Whether callers of this side may spin.</param>
        public static Gate Create(int capacity, bool enabled = true) =>
            new() { Credit = MaxCredit, Disabled = !enabled, PollIterations = capacity == 1 ? 1 : 4 };
    }
}
