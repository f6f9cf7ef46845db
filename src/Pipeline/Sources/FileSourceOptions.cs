namespace Pipeline;

/// <summary>Settings of a <see cref="FileSource"/>; bind them from a configuration section and validate with <see cref="FileSourceOptionsValidator"/>.</summary>
/// <example>
/// <code>
/// services.AddOptions&lt;FileSourceOptions&gt;().BindConfiguration("Input").ValidateOnStart();
/// services.AddSingleton&lt;IValidateOptions&lt;FileSourceOptions&gt;&gt;(new FileSourceOptionsValidator("Input"));
/// </code>
/// </example>
public sealed class FileSourceOptions
{
    /// <summary>The shortest allowed <see cref="PollInterval"/>: 10 milliseconds.</summary>
    public static readonly TimeSpan MinPollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest allowed <see cref="PollInterval"/>: one day.</summary>
    public static readonly TimeSpan MaxPollInterval = TimeSpan.FromDays(1);

    /// <summary>Gets or sets the path of the text file (UTF-8) to read.</summary>
    /// <value>The default value is <see langword="null"/>; required.</value>
    public string? Path { get; set; }

    /// <summary>
    /// Gets or sets whether to keep reading lines appended to the file, like <c>tail -F</c>, until the pipeline stops: a rotated
    /// file (the path now names a new file) is read to its end and the new one from its start; a truncated one from its start.
    /// </summary>
    /// <value>The default value is <see langword="false"/>: the source ends at the end of the file.</value>
    public bool Follow { get; set; }

    /// <summary>Gets or sets the path of the checkpoint file, which holds the acknowledged offset a restart resumes from.</summary>
    /// <value>The default value is <see langword="null"/>: <see cref="Path"/> followed by <c>.checkpoint</c>, beside the input.</value>
    /// <remarks>
    /// The checkpoint also records a fingerprint of the file's first bytes and the input's full path: a restart applies it only to the
    /// same path, or one that names the same file through symbolic links, and a file that still starts with the same bytes; else it
    /// reads the input from its start (and logs a warning). So one checkpoint file shared by two inputs never resumes one at the
    /// other's offset, but each run over the other input starts it over: give each input a checkpoint file of its own.
    /// </remarks>
    public string? CheckpointPath { get; set; }

    /// <summary>Gets or sets how often a followed file is looked at when no change notification arrives (the fallback when file watching is unavailable or misses a change).</summary>
    /// <value>The default value is 1 second. Allowed: 10 milliseconds to 1 day.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the checkpoint path in effect: <see cref="CheckpointPath"/>, or <see cref="Path"/> followed by <c>.checkpoint</c>.</summary>
    internal string ResolvedCheckpointPath => string.IsNullOrWhiteSpace(CheckpointPath) ? Path + ".checkpoint" : CheckpointPath;
}
