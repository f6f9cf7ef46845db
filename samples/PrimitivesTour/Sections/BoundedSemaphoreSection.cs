using Pipeline.Primitives;

namespace PrimitivesTour.Sections;

/// <summary>
/// A <see cref="BoundedSemaphore"/> refuses a release that would push it past its bound, which
/// catches a "released twice" bug at the spot; a plain <see cref="CountingSemaphore"/> just grows.
/// </summary>
internal sealed class BoundedSemaphoreSection : Section
{
    public override string Id => "bounded-semaphore";

    public override string Title => "BoundedSemaphore: an extra Release is caught";

    public override Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var plain = new CountingSemaphore(2);
        plain.Release();
        output.WriteLine($"  CountingSemaphore(2) released once without acquiring: CurrentCount = {plain.CurrentCount} (grows silently)");

        var bounded = new BoundedSemaphore(2);
        Expect(bounded.TryAcquire(WaitTimeout, cancellationToken), "a permit");
        bounded.Release();
        output.WriteLine($"  BoundedSemaphore(2): acquire + release -> CurrentCount = {bounded.CurrentCount} of MaxCount {bounded.MaxCount}");

        var caught = TryOverRelease(bounded, output, "  one Release too many");

        // The bound holds however the semaphore is referenced.
        CountingSemaphore viaBase = bounded;
        var caughtViaBase = TryOverRelease(viaBase, output, "  the same through a CountingSemaphore variable");

        var countUnchanged = bounded.CurrentCount == 2;
        output.WriteLine($"  CurrentCount after both attempts: {bounded.CurrentCount}");
        return Task.FromResult(new CheckResult(
            caught && caughtViaBase && countUnchanged && plain.CurrentCount == 3,
            "the over-release threw SemaphoreFullException and left the count at 2"));
    }

    private static bool TryOverRelease(CountingSemaphore semaphore, TextWriter output, string label)
    {
        try
        {
            semaphore.Release();
            output.WriteLine($"{label}: not caught (CurrentCount = {semaphore.CurrentCount})");
            return false;
        }
        catch (SemaphoreFullException exception)
        {
            output.WriteLine($"{label}: caught {exception.GetType().Name}");
            return true;
        }
    }
}
