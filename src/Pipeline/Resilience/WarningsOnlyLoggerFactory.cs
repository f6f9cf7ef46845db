using Microsoft.Extensions.Logging;

namespace Pipeline;

/// <summary>
/// Hands Polly's telemetry loggers that pass on only warnings and worse: retries, timeouts and rejections are logged, while the
/// record Polly writes for every execution and attempt (at Information) would otherwise be one line per item.
/// </summary>
internal sealed class WarningsOnlyLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new WarningsOnlyLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The application's factory is not ours to dispose.
    }

    private sealed class WarningsOnlyLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
