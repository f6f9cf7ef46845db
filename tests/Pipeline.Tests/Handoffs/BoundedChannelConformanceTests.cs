using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>The conformance suite against the BCL bounded channel, the kind the custom handoffs must be interchangeable with.</summary>
public sealed class BoundedChannelConformanceTests : ChannelConformanceTests
{
    protected override HandoffKind Kind => HandoffKind.Channel;
}
