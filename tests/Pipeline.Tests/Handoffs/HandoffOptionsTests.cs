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
    [Fact]
    public void Merge_EachMemberFromTheMostSpecificLevelThatSetIt_EvenWhenItSetTheDefault()
    {
        var stage = new HandoffOptions { Capacity = HandoffOptions.DefaultCapacity };
        var pipeline = new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = 64 };
        var code = new HandoffOptions { FullMode = BoundedChannelFullMode.DropOldest, Kind = HandoffKind.Channel };

        var merged = HandoffOptions.Merge(stage, null, pipeline, code);

        Assert.Equal(HandoffOptions.DefaultCapacity, merged.Capacity);
        Assert.Equal(HandoffKind.Semaphore, merged.Kind);
        Assert.Equal(BoundedChannelFullMode.DropOldest, merged.FullMode);
    }

    [Fact]
    public void Merge_NoLevelSetsAnything_GivesTheDefaults()
    {
        var merged = HandoffOptions.Merge(new HandoffOptions(), null);

        Assert.Equal(HandoffKind.Condition, merged.Kind);
        Assert.Equal(HandoffOptions.DefaultCapacity, merged.Capacity);
        Assert.Equal(BoundedChannelFullMode.Wait, merged.FullMode);
    }

    [Fact]
    public void Build_StageCodeSetsTheDefaultCapacity_KeepsItOverThePipelineCodeCapacity()
    {
        var builder = new PipelineBuilder("layers") { Handoff = { Capacity = 64 } };
        builder.From("read", ct => TestStages.Range(1, ct))
            .Then("parse", x => x, o => o.Handoff.Capacity = HandoffOptions.DefaultCapacity)
            .To("store", _ => { });
        var definition = builder.ToDefinition();

        var parse = ResolvedStageOptions.Resolve(definition.Stages[1], definition.Handoff, configuration: null);
        var store = ResolvedStageOptions.Resolve(definition.Stages[2], definition.Handoff, configuration: null);

        Assert.Equal(HandoffOptions.DefaultCapacity, parse.Handoff.Capacity);
        Assert.Equal(64, store.Handoff.Capacity);
    }
}
