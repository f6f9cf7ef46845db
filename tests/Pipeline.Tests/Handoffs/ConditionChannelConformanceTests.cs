using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

public sealed class ConditionChannelConformanceTests : BlockingHandoffConformanceTests
{
    protected override HandoffKind Kind => HandoffKind.Condition;
}
