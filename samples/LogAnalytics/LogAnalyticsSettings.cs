using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Pipeline;

namespace LogAnalytics;

/// <summary>
/// The sample's own settings: <c>Input:Path</c>, <c>Input:Follow</c>, <c>Input:CheckpointPath</c>, <c>Input:PollInterval</c>,
/// <c>Store:Path</c>, <c>Store:BatchSize</c> and <c>Role</c>. Relative paths are relative to the application's base directory (where
/// <c>appsettings.json</c> is), whatever the working directory. The <c>Input</c> keys become the <see cref="FileSourceOptions"/> of
/// the read stage (see <see cref="ToFileSourceOptions"/>).
/// </summary>
public sealed class LogAnalyticsSettings
{
    /// <summary>The default data folder, under the application's base directory (build output, not committed).</summary>
    public const string DataFolder = "data";

    /// <summary>The key of the Redis connection string the producer and consumer roles need.</summary>
    public const string RedisConnectionStringKey = "Pipelines:" + LogAnalyticsApp.PipelineName + ":Redis:ConnectionString";

    private static readonly string[] s_roles = ["all", "producer", "consumer"];

    /// <summary>The keys each of the sample's own sections allows; any other key under them is a misspelling and ends the start.</summary>
    private static readonly (string Section, string[] Keys)[] s_sections =
    [
        ("Input", ["Path", "Follow", "CheckpointPath", "PollInterval"]),
        ("Store", ["Path", "BatchSize"]),
    ];

    /// <summary>Gets the access log to read, or <see langword="null"/> to generate and read the default log (<c>data/access.log</c>).</summary>
    public string? InputPath { get; init; }

    /// <summary>Gets whether to keep reading lines appended to the input until stopped (<c>Input:Follow</c>, default false).</summary>
    public bool Follow { get; init; }

    /// <summary>Gets the checkpoint file of the read stage (<c>Input:CheckpointPath</c>), or <see langword="null"/> for the default:
    /// beside the database, <c>&lt;Store:Path&gt;.&lt;input file name&gt;.&lt;input key&gt;.checkpoint</c> (see <see cref="ResolveCheckpointPath"/>).</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Gets how often a followed input is looked at when no change notification arrives (<c>Input:PollInterval</c>,
    /// 10 ms to 1 day, default 1 second).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the SQLite database (<c>Store:Path</c>, default <c>data/access-logs.db</c>).</summary>
    public required string StorePath { get; init; }

    /// <summary>Gets how many requests go into one store transaction (<c>Store:BatchSize</c>, 1 to 100,000, default 1000).</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>Gets the process's role (<c>Role</c>: <c>all</c>, <c>producer</c> or <c>consumer</c>, default <c>all</c>): every stage
    /// here, or the two halves of the pipeline in separate processes joined by a Redis stream.</summary>
    public ProcessRole Role { get; init; } = ProcessRole.All;

    /// <summary>Gets the Redis stream between producer and consumers (<c>Pipelines:access-logs:Redis:Stream</c>), or
    /// <see langword="null"/> when not configured.</summary>
    public string? RedisStream { get; init; }

    /// <summary>Gets the consumer group the consumers share (<c>Pipelines:access-logs:Redis:Group</c>), or <see langword="null"/> when not
    /// configured.</summary>
    public string? RedisGroup { get; init; }

    /// <summary>Gets whether a consumer ends once the producer has read its input to the end and the group has acknowledged every
    /// entry of the stream (<c>ExitWhenDone</c>, default false: a consumer runs until stopped, like a followed input).</summary>
    public bool ExitWhenDone { get; init; }

    /// <summary>Reads and checks the settings.</summary>
    /// <param name="configuration">The application's configuration.</param>
    /// <param name="baseDirectory">The directory relative paths are resolved against.</param>
    /// <returns>The settings, with full paths.</returns>
    /// <exception cref="InvalidOperationException">Thrown when a value is invalid; the message names the key, the value and what is allowed.</exception>
    public static LogAnalyticsSettings Read(IConfiguration configuration, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        RejectUnknownKeys(configuration);
        var input = configuration["Input:Path"];
        var followText = configuration["Input:Follow"];
        var follow = false;
        if (!string.IsNullOrEmpty(followText) && !bool.TryParse(followText, out follow))
        {
            throw new InvalidOperationException($"Input:Follow must be true or false, was '{followText}'");
        }

        var batchText = configuration["Store:BatchSize"];
        var batchSize = 1000;
        if (!string.IsNullOrEmpty(batchText)
            && (!int.TryParse(batchText, NumberStyles.Integer, CultureInfo.InvariantCulture, out batchSize) || batchSize is < 1 or > 100_000))
        {
            throw new InvalidOperationException($"Store:BatchSize must be between 1 and 100000, was '{batchText}'");
        }

        var roleText = configuration["Role"] is { Length: > 0 } configuredRole ? configuredRole : "all";
        if (!s_roles.Contains(roleText, StringComparer.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Role must be one of {string.Join(", ", s_roles)}, was '{roleText}'");
        }

        var role = Enum.Parse<ProcessRole>(roleText, ignoreCase: true);
        if (role != ProcessRole.All && string.IsNullOrWhiteSpace(configuration[RedisConnectionStringKey]))
        {
            throw new InvalidOperationException(
                $"Role={roleText.ToLowerInvariant()} needs {RedisConnectionStringKey}: the Redis server the producer and the consumers share, "
                + $"e.g. --{RedisConnectionStringKey}=localhost:6379");
        }

        var storeParallelism = configuration[$"Pipelines:{LogAnalyticsApp.PipelineName}:Stages:store:Parallelism"];
        if (!string.IsNullOrEmpty(storeParallelism) && storeParallelism.Trim() != "1")
        {
            throw new InvalidOperationException(
                $"Pipelines:{LogAnalyticsApp.PipelineName}:Stages:store:Parallelism must be 1, was '{storeParallelism}': the store writes through "
                + "one SQLite connection, and SQLite has one writer. To store faster raise Store:BatchSize; to enrich faster raise "
                + $"Pipelines:{LogAnalyticsApp.PipelineName}:Stages:enrich:Parallelism");
        }

        RejectDroppingHandoffs(configuration);
        RejectBadHostAndLoggingValues(configuration);

        var exitText = configuration["ExitWhenDone"];
        var exitWhenDone = false;
        if (!string.IsNullOrEmpty(exitText) && !bool.TryParse(exitText, out exitWhenDone))
        {
            throw new InvalidOperationException($"ExitWhenDone must be true or false, was '{exitText}'");
        }

        if (follow && string.IsNullOrEmpty(input))
        {
            throw new InvalidOperationException("Input:Follow=true needs Input:Path: the generated default log never grows");
        }

        var pollText = configuration["Input:PollInterval"];
        var pollInterval = TimeSpan.FromSeconds(1);
        if (!string.IsNullOrEmpty(pollText)
            && (!TimeSpan.TryParse(pollText, CultureInfo.InvariantCulture, out pollInterval)
                || pollInterval < FileSourceOptions.MinPollInterval || pollInterval > FileSourceOptions.MaxPollInterval))
        {
            throw new InvalidOperationException($"Input:PollInterval must be a time span from 00:00:00.010 to 1.00:00:00, was '{pollText}'");
        }

        return new LogAnalyticsSettings
        {
            InputPath = string.IsNullOrEmpty(input) ? null : Path.GetFullPath(input, baseDirectory),
            Follow = follow,
            CheckpointPath = configuration["Input:CheckpointPath"] is { Length: > 0 } checkpoint ? Path.GetFullPath(checkpoint, baseDirectory) : null,
            PollInterval = pollInterval,
            StorePath = Path.GetFullPath(configuration["Store:Path"] is { Length: > 0 } store ? store : Path.Combine(DataFolder, "access-logs.db"), baseDirectory),
            BatchSize = batchSize,
            Role = role,
            ExitWhenDone = exitWhenDone,
            RedisStream = configuration[$"Pipelines:{LogAnalyticsApp.PipelineName}:Redis:Stream"],
            RedisGroup = configuration[$"Pipelines:{LogAnalyticsApp.PipelineName}:Redis:Group"],
        };
    }

    /// <summary>Every line is stored or dead-lettered: a handoff that drops items when full would lose lines the checkpoint passes.</summary>
    private static void RejectDroppingHandoffs(IConfiguration configuration)
    {
        var pipeline = configuration.GetSection($"Pipelines:{LogAnalyticsApp.PipelineName}");
        var keys = new List<string> { "Handoff:FullMode" };
        keys.AddRange(pipeline.GetSection("Stages").GetChildren().Select(stage => $"Stages:{stage.Key}:Handoff:FullMode"));
        foreach (var key in keys)
        {
            if (pipeline[key] is { Length: > 0 } mode && !string.Equals(mode.Trim(), "Wait", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Pipelines:{LogAnalyticsApp.PipelineName}:{key} must be Wait, was '{mode}': this job stores every line or dead-letters it, "
                    + "and a handoff that drops items when full would lose lines that the read stage's checkpoint then passes");
            }
        }
    }

    /// <summary>
    /// The host's own keys and the log levels: the host passes over a timeout that is not whole seconds, and a log level that is not
    /// one would end the run with an unhandled exception at its first log line.
    /// </summary>
    private static void RejectBadHostAndLoggingValues(IConfiguration configuration)
    {
        foreach (var key in new[] { "shutdownTimeoutSeconds", "startupTimeoutSeconds" })
        {
            if (configuration[key] is { Length: > 0 } seconds && !int.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw new InvalidOperationException($"{key} must be a whole number of seconds, 0 or more, was '{seconds}'");
            }
        }

        foreach (var key in new[] { "servicesStartConcurrently", "servicesStopConcurrently" })
        {
            if (configuration[key] is { Length: > 0 } flag && !bool.TryParse(flag, out _))
            {
                throw new InvalidOperationException($"{key} must be true or false, was '{flag}'");
            }
        }

        foreach (var level in configuration.GetSection("Logging").AsEnumerable())
        {
            var path = level.Key.Split(':');
            if (level.Value is { Length: > 0 } value && path.Length >= 3 && string.Equals(path[^2], "LogLevel", StringComparison.OrdinalIgnoreCase)
                && !Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(value, ignoreCase: true, out _))
            {
                throw new InvalidOperationException(
                    $"{level.Key} must be one of {string.Join(", ", Enum.GetNames<Microsoft.Extensions.Logging.LogLevel>())}, was '{value}'");
            }
        }
    }

    private static void RejectUnknownKeys(IConfiguration configuration)
    {
        foreach (var scalar in new[] { "Role", "ExitWhenDone" })
        {
            if (configuration.GetSection(scalar).GetChildren().Any())
            {
                throw new InvalidOperationException($"{scalar} must be a value, not a section or a list");
            }
        }

        foreach (var (section, keys) in s_sections)
        {
            if (configuration[section] is { Length: > 0 })
            {
                throw new InvalidOperationException($"{section} is a section, not a value: give its keys ({string.Join(", ", keys.Select(key => $"{section}:{key}"))})");
            }

            foreach (var child in configuration.GetSection(section).GetChildren())
            {
                if (!keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(
                        $"{section}:{child.Key} is not a known setting; {section} allows {string.Join(", ", keys)}");
                }

                if (child.GetChildren().Any())
                {
                    throw new InvalidOperationException($"{section}:{child.Key} must be a value, not a section or a list");
                }
            }
        }
    }

    /// <summary>Returns the checkpoint file for <paramref name="inputPath"/>: <see cref="CheckpointPath"/> when set, else
    /// <c>&lt;Store:Path&gt;.&lt;input file name&gt;.&lt;input key&gt;.checkpoint</c>. Beside the database, not the input: the checkpoint says which
    /// lines this database holds, so a new database (another <c>Store:Path</c>) reads the input from its start.</summary>
    /// <param name="inputPath">The full path of the input.</param>
    /// <returns>The full path of the checkpoint file.</returns>
    /// <remarks>
    /// The input key (<see cref="InputKey"/>) tells apart inputs of the same name in different folders, so each keeps a checkpoint of
    /// its own: one input's offset never applies to another that starts with the same lines. A producer's default is
    /// <c>&lt;Store:Path&gt;.&lt;input file name&gt;.&lt;input key&gt;.&lt;stream&gt;.checkpoint</c>: it records which lines the stream holds, not the
    /// database, so a run with <c>Role=all</c> and one with <c>Role=producer</c> do not share it.
    /// </remarks>
    public string ResolveCheckpointPath(string inputPath) => CheckpointPath ?? Role switch
    {
        ProcessRole.Producer => $"{StorePath}.{Path.GetFileName(inputPath)}.{InputKey(inputPath)}.{RedisStream}.checkpoint",
        _ => $"{StorePath}.{Path.GetFileName(inputPath)}.{InputKey(inputPath)}.checkpoint",
    };

    /// <summary>Returns the key of an input in its default checkpoint's name: the first 8 hexadecimal digits (lower case) of the
    /// SHA-256 of its full path, as given, in UTF-8 (so a followed link re-pointed to a new file keeps its checkpoint; the same file
    /// given by another path has a checkpoint of its own).</summary>
    /// <param name="inputPath">The full path of the input.</param>
    /// <returns>8 characters, <c>0-9a-f</c>.</returns>
    public static string InputKey(string inputPath) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(inputPath)), 0, 4);

    /// <summary>Returns the options of the read stage's <see cref="FileSource"/> over <paramref name="inputPath"/>.</summary>
    /// <param name="inputPath">The full path of the input: <see cref="InputPath"/> or the generated default log.</param>
    /// <returns>Path, follow mode, checkpoint and poll interval.</returns>
    public FileSourceOptions ToFileSourceOptions(string inputPath) => new()
    {
        Path = inputPath,
        Follow = Follow,
        CheckpointPath = ResolveCheckpointPath(inputPath),
        PollInterval = PollInterval,
    };
}
