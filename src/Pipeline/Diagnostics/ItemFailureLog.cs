using Microsoft.Extensions.Logging;

namespace Pipeline;

/// <summary>
/// Logs one stage's item failures at a volume a person can read: every failure at Debug with its exception; at Warning the first
/// <see cref="WarningsBeforeSummary"/> with their exceptions, then one summary per <see cref="SummaryInterval"/> with the count and
/// the last exception, and a last summary when the stage ends. Thread-safe; failures are the slow path, so a lock is fine.
/// </summary>
internal sealed class ItemFailureLog(ILogger logger, string pipelineName, string stageName, TimeProvider timeProvider)
{
    /// <summary>How many failures per stage are logged at Warning with their exception before the summaries start.</summary>
    public const int WarningsBeforeSummary = 5;

    /// <summary>How often a summary of the failures not logged one by one is written.</summary>
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    private readonly object _lock = new();

    /// <summary>Failures logged one by one at Warning so far.</summary>
    private int _warned;

    /// <summary>Failures since the last summary that were not logged one by one at Warning.</summary>
    private long _unreported;

    /// <summary>When the current summary period began (a <see cref="TimeProvider.GetTimestamp"/> value).</summary>
    private long _periodStart;

    private Exception? _lastException;
    private string _lastOutcome = string.Empty;

    /// <summary>Logs one failed item; <paramref name="outcome"/> says what became of it (<c>dead-lettered</c>, <c>skipped</c>).</summary>
    public void Report(string outcome, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.ItemFailed(pipelineName, stageName, outcome, exception);
        }

        if (!logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        bool warn;
        long summaryCount = 0;
        TimeSpan elapsed = default;
        lock (_lock)
        {
            warn = _warned < WarningsBeforeSummary;
            if (warn)
            {
                _warned++;
                if (_warned == WarningsBeforeSummary)
                {
                    _periodStart = timeProvider.GetTimestamp();
                }
            }
            else
            {
                _unreported++;
                _lastException = exception;
                _lastOutcome = outcome;
                elapsed = timeProvider.GetElapsedTime(_periodStart);
                if (elapsed >= SummaryInterval)
                {
                    summaryCount = _unreported;
                    _unreported = 0;
                    _periodStart = timeProvider.GetTimestamp();
                }
            }
        }

        if (warn)
        {
            logger.ItemFailedWarning(pipelineName, stageName, outcome, exception);
        }
        else if (summaryCount > 0)
        {
            logger.ItemFailuresSummary(pipelineName, stageName, summaryCount, outcome, elapsed.TotalSeconds, exception.GetType().Name, exception.Message);
        }
    }

    /// <summary>Writes the summary of the failures not yet reported; called when the stage ends.</summary>
    public void Flush()
    {
        long count;
        Exception? last;
        string outcome;
        TimeSpan elapsed;
        lock (_lock)
        {
            count = _unreported;
            last = _lastException;
            outcome = _lastOutcome;
            elapsed = timeProvider.GetElapsedTime(_periodStart);
            _unreported = 0;
        }

        if (count > 0 && last is not null)
        {
            logger.ItemFailuresSummary(pipelineName, stageName, count, outcome, elapsed.TotalSeconds, last.GetType().Name, last.Message);
        }
    }
}
