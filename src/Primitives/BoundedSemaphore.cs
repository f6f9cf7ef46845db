namespace Pipeline.Primitives;

/// <summary>
/// A <see cref="CountingSemaphore"/> that may never hold more than <see cref="MaxCount"/> permits, like Python's
/// <c>threading.BoundedSemaphore</c>: a release past the bound is a bug caught with
/// <see cref="SemaphoreFullException"/>, and leaves the count unchanged. The bound holds however the semaphore
/// is referenced, also through a <see cref="CountingSemaphore"/> variable.
/// </summary>
public sealed class BoundedSemaphore : CountingSemaphore
{
    /// <summary>Initializes a new instance with <paramref name="initialCount"/> free permits, which is also the bound.</summary>
    /// <param name="initialCount">The number of free permits and the most it may hold; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="initialCount"/> is less than 1.</exception>
    public BoundedSemaphore(int initialCount = 1)
        : base(initialCount, CheckBound(initialCount, nameof(initialCount)))
    {
    }

    /// <summary>Initializes a new instance with <paramref name="initialCount"/> free permits and a bound of <paramref name="maxCount"/>.</summary>
    /// <param name="initialCount">The number of free permits; between 0 and <paramref name="maxCount"/>.</param>
    /// <param name="maxCount">The most permits the semaphore may hold; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="maxCount"/> is less than 1, or <paramref name="initialCount"/> is negative or above <paramref name="maxCount"/>.</exception>
    public BoundedSemaphore(int initialCount, int maxCount)
        : base(initialCount, CheckBound(maxCount, nameof(maxCount)))
    {
    }

    /// <summary>Gets the most permits the semaphore may hold.</summary>
    public int MaxCount => Bound;

    private static int CheckBound(int maxCount, string paramName)
    {
        if (maxCount < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, maxCount, $"{paramName} must be at least 1, was {maxCount}.");
        }

        return maxCount;
    }
}
