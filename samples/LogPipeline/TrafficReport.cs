using Microsoft.Extensions.Hosting;
using Pipeline;

namespace LogPipeline;

/// <summary>Aggregates batches of entries; prints the report when the pipeline has drained, then ends the application.</summary>
public sealed class TrafficReport(IHostApplicationLifetime lifetime) : ISink<IReadOnlyList<AccessLogEntry>>, IStageLifecycle
{
    private readonly Dictionary<int, int> _byStatus = [];
    private readonly Dictionary<string, int> _byPath = [];
    private long _bytes;
    private int _requests;
    private int _batches;

    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        Console.WriteLine("Traffic report: waiting for entries");
        return default;
    }

    public ValueTask WriteAsync(IReadOnlyList<AccessLogEntry> batch, CancellationToken cancellationToken)
    {
        _batches++;
        foreach (var entry in batch)
        {
            _requests++;
            _bytes += entry.Bytes;
            _byStatus[entry.Status] = _byStatus.GetValueOrDefault(entry.Status) + 1;
            var path = entry.Path.Split('?')[0];
            _byPath[path] = _byPath.GetValueOrDefault(path) + 1;
        }

        return default;
    }

    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        Console.WriteLine($"{_requests} requests in {_batches} batches, {_bytes:N0} bytes sent");
        Console.WriteLine("By status: " + string.Join(", ", _byStatus.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}")));
        Console.WriteLine("Top paths: " + string.Join(", ", _byPath.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(3).Select(p => $"{p.Key} ({p.Value})")));
        lifetime.StopApplication();
        return default;
    }
}
