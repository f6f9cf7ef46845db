using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives;

/// <summary>
/// A held lock, released when the scope is disposed: <c>using (myLock.Lock()) { … }</c>. Returned by
/// <see cref="ExclusiveLock.Lock"/>, <see cref="ExclusiveLock.LockAsync"/>, <see cref="ReentrantLock.Lock"/>,
/// <see cref="Condition.Lock"/> and <see cref="Condition.LockAsync"/>.
/// </summary>
/// <remarks>Dispose a scope exactly once; a copy disposed again releases the lock again.</remarks>
public readonly struct Scope : IDisposable, IEquatable<Scope>
{
    private readonly ILockReleaser? _lock;

    internal Scope(ILockReleaser @lock) => _lock = @lock;

    /// <summary>Releases the lock this scope holds. Does nothing on a default scope.</summary>
    /// <exception cref="SynchronizationLockException">Thrown when the lock is no longer held (released twice).</exception>
    public void Dispose() => _lock?.Release();

    /// <inheritdoc/>
    public bool Equals(Scope other) => ReferenceEquals(_lock, other._lock);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Scope other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _lock?.GetHashCode() ?? 0;

    /// <summary>Compares two scopes for holding the same lock.</summary>
    /// <param name="left">The first scope.</param>
    /// <param name="right">The second scope.</param>
    /// <returns><see langword="true"/> when both scopes hold the same lock.</returns>
    public static bool operator ==(Scope left, Scope right) => left.Equals(right);

    /// <summary>Compares two scopes for holding different locks.</summary>
    /// <param name="left">The first scope.</param>
    /// <param name="right">The second scope.</param>
    /// <returns><see langword="true"/> when the scopes hold different locks.</returns>
    public static bool operator !=(Scope left, Scope right) => !left.Equals(right);
}
