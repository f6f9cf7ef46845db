namespace Pipeline.Primitives.Tests;

/// <summary>
/// Tests that load every core run in this collection, alone, so they neither starve nor are
/// starved by the timing tests of the other classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTestGroup
{
    public const string Name = "Serial";
}
