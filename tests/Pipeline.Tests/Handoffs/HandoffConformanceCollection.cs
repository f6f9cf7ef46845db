namespace Pipeline.Tests.Handoffs;

/// <summary>
/// Runs its classes alone, one after another: the conformance suites race cancellations closely and load every core
/// with stress runs, which only works on a small machine when nothing else runs, and the allocation tests count the
/// bytes allocated by the whole process.
/// </summary>
[CollectionDefinition(nameof(HandoffConformanceCollection), DisableParallelization = true)]
public sealed class HandoffConformanceCollection;
