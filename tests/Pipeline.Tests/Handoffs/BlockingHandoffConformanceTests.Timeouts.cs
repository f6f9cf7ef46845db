using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>Timeouts the blocking calls cannot time: refused before anything is written, read, taken or parked.</summary>
public abstract partial class BlockingHandoffConformanceTests
{
    public static TheoryData<TimeSpan> UntimeableTimeouts => new()
    {
        TimeSpan.MaxValue,
        TimeSpan.FromDays(30),
        TimeSpan.FromMilliseconds(int.MaxValue) + TimeSpan.FromMilliseconds(1),
        TimeSpan.FromMilliseconds(-2),
        TimeSpan.MinValue,
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(UntimeableTimeouts))]
    public async Task TryWrite_TimeoutItCannotTime_ThrowsAndLeavesTheHandoffAsItWas(TimeSpan timeout)
    {
        await Task.Run(() =>
        {
            var handoff = CreateBlocking<int>(1);
            var channel = (System.Threading.Channels.Channel<int>)handoff;

            // Refused the same whether the call would have waited (full) or not (room).
            Assert.Equal("timeout", Assert.Throws<ArgumentOutOfRangeException>(() => handoff.TryWrite(1, timeout)).ParamName);
            Assert.Equal(0, channel.Reader.Count);
            Assert.True(channel.Writer.TryWrite(1));
            Assert.Equal("timeout", Assert.Throws<ArgumentOutOfRangeException>(() => handoff.TryWrite(2, timeout)).ParamName);

            // Nothing parked, the lock free: the first item only, then room for another.
            Assert.True(channel.Reader.TryRead(out var first));
            Assert.Equal(1, first);
            Assert.False(channel.Reader.TryRead(out _));
            Assert.True(channel.Writer.TryWrite(3));
            Assert.True(handoff.TryRead(out var third, TimeSpan.Zero));
            Assert.Equal(3, third);
        }).WaitAsync(Bound);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(UntimeableTimeouts))]
    public async Task TryRead_TimeoutItCannotTime_ThrowsAndLeavesTheHandoffAsItWas(TimeSpan timeout)
    {
        await Task.Run(() =>
        {
            var handoff = CreateBlocking<int>(1);
            var channel = (System.Threading.Channels.Channel<int>)handoff;

            Assert.Equal("timeout", Assert.Throws<ArgumentOutOfRangeException>(() => handoff.TryRead(out _, timeout)).ParamName);
            Assert.True(channel.Writer.TryWrite(1));
            Assert.Equal("timeout", Assert.Throws<ArgumentOutOfRangeException>(() => handoff.TryRead(out _, timeout)).ParamName);

            Assert.Equal(1, channel.Reader.Count);
            Assert.True(channel.Reader.TryRead(out var item));
            Assert.Equal(1, item);
            Assert.True(channel.Writer.TryWrite(2));
        }).WaitAsync(Bound);
    }
}
