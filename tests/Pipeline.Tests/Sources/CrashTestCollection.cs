namespace Pipeline.Tests.Sources;

/// <summary>
/// The SIGKILL crash tests run alone: each drives a child process through 100,000 lines with disk writes, which would otherwise
/// starve the timing-bound tests running beside them on a 2-core machine (and be slowed by them).
/// </summary>
[CollectionDefinition(nameof(CrashTestCollection), DisableParallelization = true)]
public sealed class CrashTestCollection
{
}
