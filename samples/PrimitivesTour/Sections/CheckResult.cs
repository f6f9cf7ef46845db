namespace PrimitivesTour.Sections;

/// <summary>The outcome of a section's check.</summary>
/// <param name="Held">Whether the check held.</param>
/// <param name="Claim">What was checked, in words.</param>
internal readonly record struct CheckResult(bool Held, string Claim);
