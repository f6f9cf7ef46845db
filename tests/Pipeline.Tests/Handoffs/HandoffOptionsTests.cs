using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

public sealed class HandoffOptionsTests
{
    [Fact]
    public void Defaults_AreConditionKind1024WaitAndValid()
    {
        var options = new HandoffOptions();

        Assert.Equal(HandoffKind.Condition, options.Kind);
        Assert.Equal(1024, options.Capacity);
        Assert.Equal(BoundedChannelFullMode.Wait, options.FullMode);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1_048_576)]
    public void Validate_CapacityAtBounds_NoErrors(int capacity)
    {
        Assert.Empty(new HandoffOptions { Capacity = capacity }.Validate());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1_048_577)]
    [InlineData(int.MaxValue)]
    public void Validate_CapacityOutOfRange_NamesKeyRangeAndValue(int capacity)
    {
        IReadOnlyList<string> errors = new HandoffOptions { Capacity = capacity }.Validate();

        Assert.Equal([$"Handoff:Capacity must be between 1 and 1048576, was {capacity}"], errors);
    }

    [Fact]
    public void Validate_UndefinedKind_NamesKeyAllowedValuesAndValue()
    {
        IReadOnlyList<string> errors = new HandoffOptions { Kind = (HandoffKind)9 }.Validate();

        Assert.Equal(["Handoff:Kind must be one of Condition, Semaphore, Channel, was 9"], errors);
    }

    [Fact]
    public void Validate_UndefinedFullMode_NamesKeyAllowedValuesAndValue()
    {
        IReadOnlyList<string> errors = new HandoffOptions { FullMode = (BoundedChannelFullMode)7 }.Validate();

        Assert.Equal(["Handoff:FullMode must be one of Wait, DropNewest, DropOldest, DropWrite, was 7"], errors);
    }

    [Fact]
    public void Validate_KeyPrefixGiven_UsedInEveryMessage()
    {
        var options = new HandoffOptions { Kind = (HandoffKind)5, Capacity = 0, FullMode = (BoundedChannelFullMode)6 };

        IReadOnlyList<string> errors = options.Validate("Pipelines:access-logs:Stages:parse:Handoff");

        Assert.Equal(3, errors.Count);
        Assert.All(errors, error => Assert.StartsWith("Pipelines:access-logs:Stages:parse:Handoff:", error, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NullKeyPrefix_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>("keyPrefix", () => new HandoffOptions().Validate(null!));
    }
}
