using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

[Collection(nameof(HandoffConformanceCollection))]
public sealed class SemaphoreChannelConformanceTests : BlockingHandoffConformanceTests
{
    protected override HandoffKind Kind => HandoffKind.Semaphore;
}
