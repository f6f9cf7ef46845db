using System.Diagnostics;
using System.Reflection;

namespace Pipeline.Primitives.Tests;

/// <summary>
/// A fact that runs only against an optimized (Release) build of the primitives: a Debug build compiles every async
/// method's state machine as a class, allocated per call, so a budget of zero bytes on a path that suspends holds
/// only in Release. The README's <c>dotnet test</c> (Debug) skips it; <c>dotnet test -c Release</c> runs it.
/// </summary>
public sealed class OptimizedBuildFactAttribute : FactAttribute
{
    public OptimizedBuildFactAttribute()
    {
        if (typeof(ExclusiveLock).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
        {
            Skip = "Allocation budgets on suspending paths hold only in an optimized build; run with -c Release.";
        }
    }
}
