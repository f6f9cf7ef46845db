using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Pipeline.TestWorker;

/// <summary>
/// The worker of the crash tests: a worker service with a <see cref="FileSource"/> over a text file, a transform that rejects some
/// lines to the dead-letter file, a batch stage and a sink that appends each line's text to an output file.
/// </summary>
/// <remarks>
/// <para>
/// Everything comes from the command line (<c>--Key=Value</c>, the configuration keys of the library and these):
/// <c>Crash:Source:*</c> the <see cref="FileSourceOptions"/> (<c>Path</c>, <c>Follow</c>, <c>CheckpointPath</c>, <c>PollInterval</c>);
/// <c>Crash:Output</c> the output file; <c>Crash:BatchSize</c> the batch stage's size (default 32); <c>Crash:MaxPending</c>
/// <see cref="AcknowledgementSettings.MaxPending"/>; <c>Crash:AckMaxCount</c> <see cref="AcknowledgementSettings.MaxCount"/>;
/// <c>Crash:SinkDelay</c> how long the sink sleeps per batch (default none).
/// The pipeline is named <c>crash</c>, its stages <c>read</c>, <c>parse</c>, <c>batch</c> and <c>append</c>, so
/// <c>Pipelines:crash:Stages:parse:Parallelism</c>, <c>Pipelines:crash:Stages:parse:Handoff:Capacity</c> and
/// <c>Pipelines:crash:DeadLetter:Path</c> shape it.
/// </para>
/// <para>
/// A line is <c>NNNNNN payload</c>: <c>parse</c> throws for a number divisible by <see cref="RejectDivisor"/> (dead-lettered with
/// OnError DeadLetter). The sink writes each batch's texts, one per line, in one unbuffered write before it returns (no fsync: a SIGKILL
/// keeps what the OS has); at start it cuts a torn last line off the output. Without following, the worker stops when the file is read. Following, it stops when a
/// line reads <see cref="Sentinel"/>: that line is not written, and the host stops gracefully (drain, final acknowledgement).
/// </para>
/// </remarks>
internal static class FileCrashWorker
{
    /// <summary>The last line of a followed input: the worker stops gracefully once it has sunk it.</summary>
    public const string Sentinel = "END";

    /// <summary>A line whose number is divisible by this is rejected to the dead-letter file.</summary>
    public const int RejectDivisor = 997;

    public static async Task RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddCommandLine(args);
        var configuration = builder.Configuration;
        var sourceOptions = configuration.GetSection("Crash:Source").Get<FileSourceOptions>() ?? new FileSourceOptions();
        var outputPath = configuration["Crash:Output"] ?? throw new ArgumentException("Crash:Output is required.", nameof(args));
        var batchSize = configuration.GetValue("Crash:BatchSize", 32);
        var maxPending = configuration.GetValue<int?>("Crash:MaxPending");
        var ackMaxCount = configuration.GetValue<int?>("Crash:AckMaxCount");
        var holdAfter = configuration.GetValue<long?>("Crash:HoldAfterLines");

        using var output = OpenOutput(outputPath);

        // Complete lines in the output, this run's and earlier runs': printed as "sunk N" after each batch, the test's signal.
        var sunk = CountLines(output);
        Console.Out.WriteLine($"sunk {sunk}");
        using var never = new ManualResetEventSlim();
        var text = new StringBuilder();
        IHostApplicationLifetime? lifetime = null;

        builder.Services.AddPipeline("crash", p =>
        {
            if (maxPending is { } pending)
            {
                p.Acknowledgement.MaxPending = pending;
            }

            if (ackMaxCount is { } count)
            {
                p.Acknowledgement.MaxCount = count;
            }

            p.From("read", new FileSource(sourceOptions))
                .Then("parse", Parse, stage => stage.OnError = StageErrorMode.DeadLetter)
                .Batch("batch", batchSize, TimeSpan.FromMilliseconds(20))
                .To("append", lines =>
                {
                    var sentinel = false;
                    text.Clear();
                    foreach (var line in lines)
                    {
                        if (line == Sentinel)
                        {
                            sentinel = true;
                            continue;
                        }

                        text.Append(line).Append('\n');
                    }

                    // One unbuffered write: in the operating system before the batch counts as sunk, so a SIGKILL after it keeps it.
                    output.Write(Encoding.UTF8.GetBytes(text.ToString()));
                    sunk += lines.Count - (sentinel ? 1 : 0);
                    Console.Out.WriteLine($"sunk {sunk}");
                    if (holdAfter is { } hold && sunk >= hold)
                    {
                        // Held here, its handoffs filling behind it, until the test kills the process: the kill lands at this point
                        // however slow the machine is.
                        Console.Out.WriteLine("held");
                        never.Wait();
                    }

                    if (sentinel)
                    {
                        lifetime?.StopApplication();
                    }
                });
        });

        using var host = builder.Build();
        lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var service = host.Services.GetServices<IHostedService>().OfType<PipelineHostedService>().Single();
        _ = service.Completion.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
        await host.RunAsync().ConfigureAwait(false);
    }

    /// <summary>Opens the output for appending, first cutting a line torn by a kill in the middle of a write (it was never sunk).</summary>
    private static FileStream OpenOutput(string path)
    {
        var output = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        var length = output.Length;
        var end = length;
        var last = new byte[1];
        while (end > 0)
        {
            output.Position = end - 1;
            output.ReadExactly(last);
            if (last[0] == (byte)'\n')
            {
                break;
            }

            end--;
        }

        if (end != length)
        {
            output.SetLength(end);
        }

        output.Position = end;
        return output;
    }

    /// <summary>Counts the complete lines in <paramref name="output"/> (positioned at its end, which stays where it was).</summary>
    private static long CountLines(FileStream output)
    {
        var end = output.Position;
        output.Position = 0;
        var buffer = new byte[64 * 1024];
        long lines = 0;
        int read;
        while (output.Position < end && (read = output.Read(buffer, 0, (int)Math.Min(buffer.Length, end - output.Position))) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }

        output.Position = end;
        return lines;
    }

    private static string Parse(FileLine line)
    {
        var text = line.Text;
        if (text == Sentinel)
        {
            return text;
        }

        var number = int.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture);
        return number % RejectDivisor == 0 ? throw new InvalidDataException($"line {number} is rejected") : text;
    }
}
