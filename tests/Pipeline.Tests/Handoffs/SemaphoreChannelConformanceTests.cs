using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

[Collection(nameof(HandoffConformanceCollection))]
public sealed class SemaphoreChannelConformanceTests : ParkedWriterConformanceTests
{
    protected override HandoffKind Kind => HandoffKind.Semaphore;
}
