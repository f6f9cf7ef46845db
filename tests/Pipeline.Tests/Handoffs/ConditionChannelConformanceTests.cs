using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

[Collection(nameof(HandoffConformanceCollection))]
public sealed class ConditionChannelConformanceTests : ParkedWriterConformanceTests
{
    protected override HandoffKind Kind => HandoffKind.Condition;
}
