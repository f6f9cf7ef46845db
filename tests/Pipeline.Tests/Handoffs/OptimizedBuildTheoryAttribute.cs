using System.Diagnostics;
using System.Reflection;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// A theory that runs only against an optimized (Release) build of the library: a Debug build compiles every async
/// method's state machine as a class, allocated per call, so allocation budgets only hold in Release (which CI runs).
/// </summary>
public sealed class OptimizedBuildTheoryAttribute : TheoryAttribute
{
    public OptimizedBuildTheoryAttribute()
    {
        if (typeof(Handoff).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
        {
            Skip = "Allocation budgets hold only in an optimized build; run with -c Release.";
        }
    }
}
