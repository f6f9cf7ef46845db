using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

public sealed class HandoffTests
{
    [Theory]
    [InlineData(HandoffKind.Condition, typeof(ConditionChannel<int>))]
    [InlineData(HandoffKind.Semaphore, typeof(SemaphoreChannel<int>))]
    public void Create_CustomKind_ReturnsBlockingHandoffOfThatType(HandoffKind kind, Type expected)
    {
        Channel<int> channel = Handoff.Create<int>(new HandoffOptions { Kind = kind, Capacity = 16 });

        Assert.IsType(expected, channel);
        Assert.IsAssignableFrom<IBlockingHandoff<int>>(channel);
        Assert.Equal(16, ((IHandoff)channel).Capacity);
    }

    [Fact]
    public void Create_ChannelKind_ReturnsBclBackedHandoffWithoutBlockingMembers()
    {
        Channel<int> channel = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Channel, Capacity = 16 });

        IHandoff handoff = Assert.IsAssignableFrom<IHandoff>(channel);
        Assert.Equal(HandoffKind.Channel, handoff.Kind);
        Assert.False(channel is IBlockingHandoff<int>);
    }

    [Fact]
    public void Create_NullOptions_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>("options", () => Handoff.Create<int>(null!));
    }

    [Theory]
    [InlineData(HandoffKind.Condition)]
    [InlineData(HandoffKind.Semaphore)]
    [InlineData(HandoffKind.Channel)]
    public void Create_BadCapacity_ThrowsWithValidationMessage(HandoffKind kind)
    {
        var options = new HandoffOptions { Kind = kind, Capacity = 0 };

        ArgumentOutOfRangeException thrown = Assert.Throws<ArgumentOutOfRangeException>("options", () => Handoff.Create<int>(options));

        Assert.Contains("Handoff:Capacity must be between 1 and 1048576, was 0", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_UndefinedKind_ThrowsWithValidationMessage()
    {
        var options = new HandoffOptions { Kind = (HandoffKind)3 };

        ArgumentOutOfRangeException thrown = Assert.Throws<ArgumentOutOfRangeException>("options", () => Handoff.Create<int>(options));

        Assert.Contains("Handoff:Kind must be one of Condition, Semaphore, Channel, was 3", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetDropped_ChannelNotFromFactory_ThrowsArgumentException()
    {
        Channel<int> foreign = Channel.CreateUnbounded<int>();

        Assert.Throws<ArgumentException>("channel", () => Handoff.GetDropped(foreign));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_048_577)]
    public void Constructors_BadCapacity_ThrowArgumentOutOfRange(int badCapacity)
    {
        int capacity = badCapacity;
        Assert.Throws<ArgumentOutOfRangeException>(nameof(capacity), () => new ConditionChannel<int>(capacity));
        Assert.Throws<ArgumentOutOfRangeException>(nameof(capacity), () => new SemaphoreChannel<int>(capacity));
    }

    [Fact]
    public void Constructors_UndefinedFullMode_ThrowArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>("fullMode", () => new ConditionChannel<int>(4, (BoundedChannelFullMode)9));
        Assert.Throws<ArgumentOutOfRangeException>("fullMode", () => new SemaphoreChannel<int>(4, (BoundedChannelFullMode)9));
    }
}
