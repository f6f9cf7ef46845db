using LogAnalytics;

// Reads an access log (by default a generated 1,000,000-line one), parses, enriches and stores every request in SQLite, then
// prints a report. Settings in appsettings.json; any of them on the command line, e.g. --Pipelines:access-logs:Handoff:Kind=Semaphore.
var (exitCode, _) = await LogAnalyticsApp.RunAsync(args, Console.Out).ConfigureAwait(false);
return exitCode;
