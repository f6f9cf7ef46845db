using System.Runtime.CompilerServices;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// The bounded spin a handoff's reader or writer may do before it parks: it ends when its predicate holds or its time is up,
/// one caller per side spins, and a side whose spins fail stops spinning except for an occasional probe.
/// </summary>
public class HandoffSpinTests
{
    private static readonly bool CanSpin = Environment.ProcessorCount > 1;

    [Fact(Timeout = 30_000)]
    public async Task Until_ReadyAtTheFirstCheck_ReturnsTrueAfterOneCheckAndFreesTheGate()
    {
        await Task.Yield();
        var gate = HandoffSpin.Gate.Create(capacity: 64);
        var checks = new StrongBox<int>();

        // Every spin checks at least once, however late its first check comes (the time limit is tested after it).
        bool became = HandoffSpin.Until(ref gate, checks, static box => ++box.Value == 1);

        Assert.Equal(CanSpin, became);
        Assert.Equal(CanSpin ? 1 : 0, checks.Value);
        Assert.Equal(0, gate.Spinning);
    }

    [Fact(Timeout = 30_000)]
    public async Task Until_NeverReady_ReturnsFalseWithinItsBoundAndFreesTheGate()
    {
        await Task.Yield();
        var gate = HandoffSpin.Gate.Create(capacity: 64);
        var elapsed = System.Diagnostics.Stopwatch.StartNew();

        Assert.False(HandoffSpin.Until(ref gate, new object(), static _ => false));

        // The bound is 2 µs; a generous limit still fails a spin that never ends or waits for something.
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(5), $"The spin took {elapsed.Elapsed}.");
        Assert.Equal(0, gate.Spinning);
    }

    [Fact(Timeout = 30_000)]
    public async Task Until_NeverReady_GivesUpAndAfterFourFailuresOnlyProbesOneAttemptInSixtyFour()
    {
        await Task.Yield();
        var gate = HandoffSpin.Gate.Create(capacity: 64);
        var checks = new StrongBox<int>();
        if (!CanSpin)
        {
            // A machine with one core never spins.
            Assert.False(HandoffSpin.Until(ref gate, checks, static box => ++box.Value > 0));
            Assert.Equal(0, checks.Value);
            return;
        }

        for (int failure = 0; failure < 4; failure++)
        {
            int before = checks.Value;
            Assert.False(HandoffSpin.Until(ref gate, checks, static box => ++box.Value < 0));
            Assert.True(checks.Value > before, "A side with credit spins, checking at least once.");
        }

        int spent = checks.Value;
        for (int attempt = 1; attempt < 64; attempt++)
        {
            Assert.False(HandoffSpin.Until(ref gate, checks, static box => ++box.Value < 0));
        }

        Assert.Equal(spent, checks.Value);

        // The 64th attempt out of credit probes; one success earns back the credit for the next attempt.
        Assert.True(HandoffSpin.Until(ref gate, checks, static box => ++box.Value > 0));
        Assert.Equal(spent + 1, checks.Value);
        Assert.True(HandoffSpin.Until(ref gate, checks, static box => ++box.Value > 0));
        Assert.Equal(spent + 2, checks.Value);
    }

    [Fact(Timeout = 30_000)]
    public async Task Until_WhileAnotherCallerOfTheSideSpins_ReturnsFalseWithoutChecking()
    {
        await Task.Yield();
        var state = new Nested { Gate = HandoffSpin.Gate.Create(capacity: 64) };
        if (!CanSpin)
        {
            // A machine with one core never spins.
            Assert.False(HandoffSpin.Until(ref state.Gate, state, static s => s.InnerChecked = true));
            Assert.False(state.InnerChecked);
            return;
        }

        // The outer spin's predicate is the moment another caller arrives while the gate is taken.
        bool outer = HandoffSpin.Until(ref state.Gate, state, static s =>
        {
            s.InnerResult = HandoffSpin.Until(ref s.Gate, s, static inner =>
            {
                inner.InnerChecked = true;
                return true;
            });
            return true;
        });

        Assert.True(outer);
        Assert.False(state.InnerResult);
        Assert.False(state.InnerChecked);
        Assert.Equal(0, state.Gate.Spinning);
    }

    [Fact(Timeout = 30_000)]
    public async Task Until_DisabledGate_NeverChecks()
    {
        await Task.Yield();
        var gate = HandoffSpin.Gate.Create(capacity: 64, enabled: false);
        var checks = new StrongBox<int>();

        for (int attempt = 0; attempt < 200; attempt++)
        {
            Assert.False(HandoffSpin.Until(ref gate, checks, static box => ++box.Value > 0));
        }

        Assert.Equal(0, checks.Value);
    }

    private sealed class Nested
    {
        public HandoffSpin.Gate Gate;

        public bool InnerResult;

        public bool InnerChecked;
    }
}
