using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class CyclicBarrierTests
{
    private const int Parties = 5;

    // test_constructor
    [Theory(Timeout = 30_000)]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task Constructor_LessThanOneParty_ThrowsArgumentExceptionNamingIt(int parties)
    {
        await Task.Yield();
        var exception = Assert.ThrowsAny<ArgumentException>(() => new CyclicBarrier(parties));

        Assert.Equal("parties", exception.ParamName);
    }

    [Fact(Timeout = 30_000)]
    public async Task Constructor_NegativeDefaultTimeout_ThrowsArgumentOutOfRange()
    {
        await Task.Yield();
        Assert.Throws<ArgumentOutOfRangeException>(() => new CyclicBarrier(2, timeout: TimeSpan.FromMilliseconds(-2)));
    }

    [Fact(Timeout = 30_000)]
    public async Task Constructor_Valid_ExposesPartiesAndStartsEmpty()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(3);

        Assert.Equal(3, barrier.Parties);
        Assert.Equal(0, barrier.WaitingCount);
        Assert.False(barrier.IsBroken);
    }

    // test_single_thread
    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_SingleParty_ReturnsZeroAtOnceEveryTime()
    {
        var barrier = new CyclicBarrier(1);

        Assert.Equal(0, barrier.SignalAndWait());
        Assert.Equal(0, barrier.SignalAndWait());
        Assert.Equal(0, barrier.SignalAndWait(TimeSpan.Zero));
        Assert.Equal(0, await barrier.SignalAndWaitAsync());
        Assert.Equal(0, Concurrency.CompletedResult(barrier.SignalAndWaitAsync(TimeSpan.Zero)));

        Assert.False(barrier.IsBroken);
    }

    // test_barrier
    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_OnePass_AllPartiesMoveInLockstep()
    {
        await Task.Yield();
        MultiPass(1);
    }

    // test_barrier_10
    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_TenPasses_BarrierIsReusable()
    {
        await Task.Yield();
        MultiPass(10);
    }

    // test_wait_return
    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_EveryGeneration_HandsOutDistinctIndices()
    {
        await Task.Yield();
        const int generations = 20;
        var barrier = new CyclicBarrier(Parties);
        var indices = Enumerable.Range(0, generations).Select(_ => new ConcurrentBag<int>()).ToArray();

        RunParties(async (party, sync) =>
        {
            for (var generation = 0; generation < generations; generation++)
            {
                indices[generation].Add(sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync());
            }
        });

        Assert.All(indices, generation => Assert.Equal([0, 1, 2, 3, 4], generation.Order()));
    }

    // test_action
    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_WithAction_RunsItOncePerGenerationBeforeAnyoneIsReleased()
    {
        await Task.Yield();
        const int generations = 10;
        var actions = 0;
        var returned = 0;
        var releasedEarly = 0;
        var barrier = new CyclicBarrier(Parties, () =>
        {
            // Every party of the earlier generations returned before arriving here; none of this one may have.
            if (Volatile.Read(ref returned) != Volatile.Read(ref actions) * Parties)
            {
                Interlocked.Increment(ref releasedEarly);
            }

            Interlocked.Increment(ref actions);
        });

        RunParties(async (party, sync) =>
        {
            for (var generation = 0; generation < generations; generation++)
            {
                _ = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
                Assert.Equal(generation + 1, Volatile.Read(ref actions));
                Interlocked.Increment(ref returned);
            }
        });

        Assert.Equal(generations, actions);
        Assert.Equal(0, releasedEarly);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_WithAction_TheActionRunsBeforeAnyPartyReturns()
    {
        await Task.Yield();
        var partiesReturnedWhenActionRan = -1;
        var returned = 0;
        var barrier = new CyclicBarrier(3, () => partiesReturnedWhenActionRan = Volatile.Read(ref returned));

        var parties = Enumerable.Range(0, 3).Select(_ => Concurrency.Run(() =>
        {
            barrier.SignalAndWait();
            Interlocked.Increment(ref returned);
        })).ToArray();

        Concurrency.AssertCompletes(Task.WhenAll(parties));
        Assert.Equal(0, partiesReturnedWhenActionRan);
        Assert.Equal(3, returned);
    }

    // test_abort
    [Fact(Timeout = 30_000)]
    public async Task Abort_InsteadOfWaiting_BreaksTheBarrierForEveryOtherParty()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(Parties);
        var passed = 0;
        var broken = 0;

        RunParties(async (party, sync) =>
        {
            try
            {
                var index = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
                if (index == Parties / 2)
                {
                    // This party gives up instead of waiting.
                    Concurrency.WaitUntil(() => barrier.WaitingCount == Parties - 1 || barrier.IsBroken, "the others to wait");
                    barrier.Abort();
                    return;
                }

                _ = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
                Interlocked.Increment(ref passed);
            }
            catch (BrokenBarrierException)
            {
                Interlocked.Increment(ref broken);
            }
        });

        Assert.Equal(0, passed);
        Assert.Equal(Parties - 1, broken);
        Assert.True(barrier.IsBroken);
    }

    // test_reset
    [Fact(Timeout = 30_000)]
    public async Task Reset_WithPartiesWaiting_BreaksTheirWaitAndTheBarrierIsUsableAgain()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(Parties);
        var passed = 0;
        var broken = 0;
        var passedAgain = 0;

        RunParties(async (party, sync) =>
        {
            var index = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
            if (index == Parties / 2)
            {
                Concurrency.WaitUntil(() => barrier.WaitingCount >= Parties - 1, "the others to wait");
                barrier.Reset();
            }
            else
            {
                try
                {
                    _ = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
                    Interlocked.Increment(ref passed);
                }
                catch (BrokenBarrierException)
                {
                    Interlocked.Increment(ref broken);
                }
            }

            _ = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
            Interlocked.Increment(ref passedAgain);
        });

        Assert.Equal(0, passed);
        Assert.Equal(Parties - 1, broken);
        Assert.Equal(Parties, passedAgain);
        Assert.False(barrier.IsBroken);
    }

    // test_abort_and_reset
    [Fact(Timeout = 30_000)]
    public async Task Reset_AfterAbort_MakesTheBarrierUsableAgain()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(Parties);
        var lineUp = new CyclicBarrier(Parties);
        var passed = 0;
        var broken = 0;
        var passedAgain = 0;

        RunParties(async (party, sync) =>
        {
            try
            {
                var index = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
                if (index == Parties / 2)
                {
                    Concurrency.WaitUntil(() => barrier.WaitingCount == Parties - 1 || barrier.IsBroken, "the others to wait");
                    barrier.Abort();
                }
                else
                {
                    _ = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
                    Interlocked.Increment(ref passed);
                }
            }
            catch (BrokenBarrierException)
            {
                Interlocked.Increment(ref broken);
            }

            // Everyone has left the broken barrier before it is reset, and nobody enters before.
            if ((sync ? lineUp.SignalAndWait() : await lineUp.SignalAndWaitAsync()) == Parties / 2)
            {
                barrier.Reset();
            }

            _ = sync ? lineUp.SignalAndWait() : await lineUp.SignalAndWaitAsync();
            _ = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
            Interlocked.Increment(ref passedAgain);
        });

        Assert.Equal(0, passed);
        Assert.Equal(Parties - 1, broken);
        Assert.Equal(Parties, passedAgain);
    }

    // test_timeout
    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_OnePartyLate_TimeoutBreaksTheBarrierForEveryone()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(Parties);
        var broken = 0;

        RunParties(async (party, sync) =>
        {
            var index = sync ? barrier.SignalAndWait() : await barrier.SignalAndWaitAsync();
            if (index == Parties / 2)
            {
                // The late party arrives only once the others' timeout has broken the barrier.
                Concurrency.WaitUntil(() => barrier.IsBroken, "the barrier to break");
            }

            try
            {
                var timeout = TimeSpan.FromMilliseconds(200);
                _ = sync ? barrier.SignalAndWait(timeout) : await barrier.SignalAndWaitAsync(timeout);
            }
            catch (BrokenBarrierException)
            {
                Interlocked.Increment(ref broken);
            }
        });

        Assert.Equal(Parties, broken);
        Assert.True(barrier.IsBroken);
    }

    // test_default_timeout
    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_DefaultTimeout_BreaksTheBarrierAfterIt()
    {
        await Task.Yield();
        var timeout = TimeSpan.FromMilliseconds(100);
        var barrier = new CyclicBarrier(2, timeout: timeout);
        var clock = Stopwatch.StartNew();

        var outcome = Concurrency.Run(() => Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait()));

        Concurrency.AssertCompletes(outcome);
        Concurrency.AssertDuration(clock.Elapsed, timeout);
        Assert.True(barrier.IsBroken);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWaitAsync_DefaultTimeout_BreaksTheBarrierAfterIt()
    {
        var timeout = TimeSpan.FromMilliseconds(100);
        var barrier = new CyclicBarrier(2, timeout: timeout);
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAsync<BrokenBarrierException>(() => barrier.SignalAndWaitAsync().AsTask().WaitAsync(Concurrency.HangTimeout));

        Concurrency.AssertDuration(clock.Elapsed, timeout);
        Assert.True(barrier.IsBroken);
    }

    [Fact(Timeout = 30_000)]
    public async Task SignalAndWait_ExplicitTimeout_OverridesTheDefault()
    {
        await Task.Yield();
        var barrier = new CyclicBarrier(2, timeout: TimeSpan.FromMilliseconds(50));
        var other = Waiter.Start(waiter =>
        {
            waiter.Enter();
            return barrier.SignalAndWait(Concurrency.HangTimeout);
        });
        Concurrency.WaitUntil(() => barrier.WaitingCount == 1, "the party to wait");
        other.AssertStaysBlocked();

        // The signal that the default has run out: a party on a second barrier with the same 50 ms default, joining after the
        // first one, is broken by it. The first party's explicit timeout must still hold.
        var control = new CyclicBarrier(2, timeout: TimeSpan.FromMilliseconds(50));
        Assert.Throws<BrokenBarrierException>(() => control.SignalAndWait());
        Assert.False(barrier.IsBroken);
        Assert.Equal(1, barrier.WaitingCount);

        Assert.Equal(1, barrier.SignalAndWait(Concurrency.HangTimeout));

        Assert.Equal(0, other.Result<int>());
    }
}
