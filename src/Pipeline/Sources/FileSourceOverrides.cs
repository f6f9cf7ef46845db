namespace Pipeline;

/// <summary>The settings of a <see cref="FileSource"/> stage read from <c>Pipelines:{name}:Stages:{stage}</c>; each one set overrides the code's.</summary>
internal sealed class FileSourceOverrides
{
    public string? Path { get; set; }

    public bool? Follow { get; set; }

    public string? CheckpointPath { get; set; }

    public TimeSpan? PollInterval { get; set; }

    /// <summary>Returns new options: <paramref name="code"/> with every setting configured here replacing the code's.</summary>
    public static FileSourceOptions Apply(FileSourceOptions code, FileSourceOverrides? configured) => new()
    {
        Path = configured?.Path ?? code.Path,
        Follow = configured?.Follow ?? code.Follow,
        CheckpointPath = configured?.CheckpointPath ?? code.CheckpointPath,
        PollInterval = configured?.PollInterval ?? code.PollInterval,
    };
}
