namespace Pipeline.Primitives.Internal;

/// <summary>What a <see cref="Scope"/> releases when it is disposed.</summary>
internal interface ILockReleaser
{
    /// <summary>Releases one hold of the lock.</summary>
    void Release();
}
