using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

[Collection(nameof(HandoffConformanceCollection))]
public sealed class ConditionChannelConformanceTests : BlockingHandoffConformanceTests
{
    protected override HandoffKind Kind => HandoffKind.Condition;
}
