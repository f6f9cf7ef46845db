namespace LogAnalytics.Tests;

/// <summary>Collects the output and completes <see cref="Seen"/> once a line containing the given text is written.</summary>
/// <param name="text">The text to wait for.</param>
internal sealed class LineSignalWriter(string text) : StringWriter(System.Globalization.CultureInfo.InvariantCulture)
{
    private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes once a line containing the text has been written.</summary>
    public Task Seen => _seen.Task;

    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        if (value?.Contains(text, StringComparison.Ordinal) == true)
        {
            _seen.TrySetResult();
        }
    }

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }
}
