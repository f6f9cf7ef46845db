namespace Pipeline;

/// <summary>The role of a stage in its pipeline; decides which settings apply to it.</summary>
internal enum StageKind
{
    Source,
    Transform,
    Batch,
    Sink,
}
