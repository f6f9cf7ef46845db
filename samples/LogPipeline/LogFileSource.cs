using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Pipeline;

namespace LogPipeline;

/// <summary>Reads the lines of the file named by <c>LogFile:Path</c>, stopping early if the pipeline is asked to stop.</summary>
public sealed class LogFileSource(IConfiguration configuration) : ISource<string>
{
    public async IAsyncEnumerable<string> ReadAsync([EnumeratorCancellation] CancellationToken stoppingToken)
    {
        var path = Path.Combine(AppContext.BaseDirectory, configuration["LogFile:Path"] ?? "access.log");
        using var reader = new StreamReader(path);
        while (await reader.ReadLineAsync(stoppingToken) is { } line)
        {
            if (line.Length > 0)
            {
                yield return line;
            }
        }
    }
}
