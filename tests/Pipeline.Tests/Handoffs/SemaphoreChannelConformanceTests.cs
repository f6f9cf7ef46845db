using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

public sealed class SemaphoreChannelConformanceTests : BlockingHandoffConformanceTests
{
    protected override HandoffKind Kind => HandoffKind.Semaphore;
}
