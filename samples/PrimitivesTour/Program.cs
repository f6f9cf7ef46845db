using System.Diagnostics;
using PrimitivesTour.Sections;

// A walk through Pipeline.Primitives in the order a Python threading tutorial takes: each section
// shows a primitive doing its job, prints what it saw, and checks the effect. The exit code is 0
// only if every check held.

var sectionTimeout = TimeSpan.FromSeconds(20);
Section[] sections =
[
    new SharedCounterSection(),
    new ReentrantLockSection(),
    new CountingSemaphoreSection(),
    new BoundedSemaphoreSection(),
    new EventSection(),
    new ConditionSection(),
    new CyclicBarrierSection(),
    new BoundedQueueSection(),
];

var output = Console.Out;
output.WriteLine("A tour of Pipeline.Primitives: Python's threading, in .NET");
var failed = new List<string>();
var tour = Stopwatch.StartNew();
for (var i = 0; i < sections.Length; i++)
{
    var section = sections[i];
    output.WriteLine();
    output.WriteLine($"{i + 1}. {section.Title}");
    var started = Stopwatch.GetTimestamp();
    var result = await RunSectionAsync(section);
    var elapsed = Stopwatch.GetElapsedTime(started);
    output.WriteLine($"  check {section.Id}: {(result.Held ? "held" : "FAILED")} - {result.Claim} ({elapsed.TotalSeconds:F2} s)");
    if (!result.Held)
    {
        failed.Add(section.Id);
    }
}

output.WriteLine();
if (failed.Count == 0)
{
    output.WriteLine($"All {sections.Length} checks passed. ({tour.Elapsed.TotalSeconds:F1} s)");
    return 0;
}

output.WriteLine($"{failed.Count} of {sections.Length} checks failed: {string.Join(", ", failed)}. ({tour.Elapsed.TotalSeconds:F1} s)");
return 1;

async Task<CheckResult> RunSectionAsync(Section section)
{
    // The token stops the section's own waits; the outer bound catches a section that ignores it.
    using var cancellation = new CancellationTokenSource(sectionTimeout);
    try
    {
        return await Task.Run(() => section.RunAsync(output, cancellation.Token))
            .WaitAsync(sectionTimeout + TimeSpan.FromSeconds(5));
    }
    catch (Exception exception) when (exception is not OutOfMemoryException)
    {
        // A failing section is reported and the tour goes on, so one run shows every finding.
        return new CheckResult(false, $"{exception.GetType().Name}: {exception.Message}");
    }
}
