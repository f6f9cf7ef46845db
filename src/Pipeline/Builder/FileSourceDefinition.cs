using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pipeline;

/// <summary>
/// A <see cref="FileSource"/> stage declared with <see cref="PipelineBuilder.FromFile(string, Action{FileSourceOptions}?, Action{StageOptions}?)"/>:
/// its options are the code's with <c>Pipelines:{name}:Stages:{stage}</c> (<c>Path</c>, <c>Follow</c>, <c>CheckpointPath</c>, <c>PollInterval</c>) laid over them,
/// and a new source is created for each run.
/// </summary>
internal sealed class FileSourceDefinition(string name, StageOptions codeOptions, FileSourceOptions code)
    : StageDefinition(name, StageKind.Source, codeOptions)
{
    /// <summary>The file source's options as set in code.</summary>
    public FileSourceOptions Code { get; } = code;

    public override bool IsAcknowledging => true;

    public override StageRunner CreateRunner(StageRunContext context, int index, ResolvedStageOptions options, object? output)
    {
        var settings = FileSourceOverrides.Apply(Code, options.FileSource);

        // In a host, a relative path is the application's, like appsettings.json: resolved against the content root, whether it
        // came from code or from configuration.
        if (context.Services?.GetService<Microsoft.Extensions.Hosting.IHostEnvironment>() is { ContentRootPath: { Length: > 0 } root })
        {
            settings.Path = settings.Path is { Length: > 0 } input && !System.IO.Path.IsPathRooted(input) ? System.IO.Path.Combine(root, input) : settings.Path;
            settings.CheckpointPath = settings.CheckpointPath is { Length: > 0 } checkpoint && !System.IO.Path.IsPathRooted(checkpoint)
                ? System.IO.Path.Combine(root, checkpoint)
                : settings.CheckpointPath;
        }

        var source = new FileSource(
            settings,
            context.Services?.GetService<ILoggerFactory>()?.CreateLogger<FileSource>(),
            context.Lifecycle.TimeProvider);
        return new AcknowledgingSourceStageRunner<FileLine>(context.Lifecycle, Name, options, source, context.Acknowledgement,
            output as ChannelWriter<Envelope<FileLine>> ?? throw new InvalidOperationException("The source's downstream input has the wrong type."));
    }

    public override object? GetInputWriter(StageRunner runner) => null;
}
