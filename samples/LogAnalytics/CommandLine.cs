namespace LogAnalytics;

/// <summary>
/// Checks the command line before the host reads it. Every argument is a setting under one of the sections the sample reads, in
/// one of the forms of the configuration's command-line provider (<c>--Key=value</c>, <c>--Key value</c>, <c>/Key=value</c>,
/// <c>Key=value</c>), or <see cref="LogAnalyticsApp.ReplayDeadLettersSwitch"/>. The provider itself passes over a word that is
/// none of these, a key with no value and a key under a section nothing reads, so a misspelling such as <c>--Inptu:Path</c>
/// would run the job on the default input and report success.
/// </summary>
internal static class CommandLine
{
    /// <summary>
    /// The sections a setting may be under: the sample's own, the pipelines', logging's and the host's (<c>HostOptions</c> reads
    /// <c>shutdownTimeoutSeconds</c>, <c>startupTimeoutSeconds</c>, <c>servicesStartConcurrently</c> and <c>servicesStopConcurrently</c>
    /// from the command line too). Not <c>contentRoot</c>: the sample sets its content root to its base directory itself.
    /// </summary>
    private static readonly string[] s_sections =
    [
        "Input", "Store", "Role", "ExitWhenDone", "Pipelines", "Logging",
        "Environment", "ApplicationName", "HostBuilder", "ShutdownTimeoutSeconds", "StartupTimeoutSeconds", "ServicesStartConcurrently", "ServicesStopConcurrently",
    ];

    private static readonly string[] s_helpSwitches = ["--help", "-h", "-?", "/?", "/help"];

    /// <summary>What <c>--help</c> prints.</summary>
    public const string Usage = """
        Usage: dotnet run --project samples/LogAnalytics [-- [--Key=value ...] [--replay-dead-letters]]

        Reads an access log (by default a generated 1,000,000-line one) into SQLite, then prints a report.
        Every setting is in appsettings.json and can be given on the command line:
          --Input:Path=<file>              the access log to read (default: generate and read data/access.log)
          --Input:Follow=true|false        keep reading lines appended to the input until stopped (default false)
          --Input:CheckpointPath=<file>    where the read position is kept (default: beside the database)
          --Input:PollInterval=<time span> how often a followed input is looked at (default 00:00:01)
          --Store:Path=<file>              the SQLite database (default data/access-logs.db); each database has its own checkpoint
          --Store:BatchSize=<1-100000>     requests per store transaction (default 1000)
          --Role=all|producer|consumer     the whole job here, or its halves joined by a Redis stream (default all)
          --Pipelines:access-logs:<key>    the pipeline's settings, for example Handoff:Kind=Condition|Semaphore|Channel,
                                           Handoff:Capacity=<1-1048576>, Stages:parse:Parallelism=<1-1024>, DeadLetter:Path=<file>
          --replay-dead-letters            read the dead-letter file's malformed lines again instead of the input
          --Logging:LogLevel:<category>=<level>, --shutdownTimeoutSeconds=<n>, --environment=<name>: logging and host settings
        Relative paths are relative to the build output, where appsettings.json is. More: samples/LogAnalytics/README.md.
        Exit codes: 0 done or stopped on request, 1 faulted, 2 could not start, 3 stopped past the shutdown deadline.
        """;

    /// <summary>Gets whether <paramref name="args"/> ask for the usage (<c>--help</c>, <c>-h</c>, <c>-?</c>, <c>/?</c>).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns><see langword="true"/> when one of them does.</returns>
    public static bool IsHelp(IEnumerable<string> args) => args.Any(arg => s_helpSwitches.Contains(arg, StringComparer.OrdinalIgnoreCase));

    /// <summary>Checks that every argument is a setting under a known section, with a value, or the replay switch.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <exception cref="InvalidOperationException">Thrown for the first argument that is not; the message quotes it and says what is allowed.</exception>
    public static void Check(IReadOnlyList<string> args)
    {
        for (var index = 0; index < args.Count; index++)
        {
            var argument = args[index];
            if (string.Equals(argument, LogAnalyticsApp.ReplayDeadLettersSwitch, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (argument.StartsWith('/') && argument.IndexOf('/', 1) > 0 && !argument.Contains('=', StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"'{argument}' is not a setting: to read that file give --Input:Path={argument}");
            }

            var key = argument.StartsWith("--", StringComparison.Ordinal) ? argument[2..]
                : argument.StartsWith('/') ? argument[1..]
                : argument.Contains('=', StringComparison.Ordinal) ? argument
                : throw new InvalidOperationException(
                    $"'{argument}' is not a setting: settings are given as --Key=value, for example --Input:Path=/var/log/nginx/access.log (--help lists them)");
            var equals = key.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                key = key[..equals];
            }
            else if (key.Length == 0)
            {
                throw new InvalidOperationException($"'{argument}' is not a setting: settings are given as --Key=value (--help lists them)");
            }
            else if (index + 1 < args.Count && !args[index + 1].StartsWith("--", StringComparison.Ordinal))
            {
                // --Key value: the next argument is the value.
                index++;
            }
            else
            {
                throw new InvalidOperationException($"{key} has no value: give it as --{key}=<value>");
            }

            var section = key.Split(':')[0];
            if (!s_sections.Contains(section, StringComparer.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"{(key.Length == 0 ? $"'{argument}'" : key)} is not a known setting: settings are under {string.Join(", ", s_sections)} (--help lists them)");
            }
        }
    }
}
