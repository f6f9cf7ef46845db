namespace Pipeline;

/// <summary>Sources declared so that they are created for each run: a <see cref="FileSource"/> from options and configuration, or an acknowledging source from dependency injection.</summary>
public sealed partial class PipelineBuilder
{
    /// <summary>
    /// Starts the pipeline with a <see cref="FileSource"/> over the lines of a UTF-8 text file, created for each run. Its settings
    /// are the ones <paramref name="configureSource"/> sets, overridden by configuration like every stage's:
    /// <c>Pipelines:{pipeline}:Stages:{name}:Path</c>, <c>:Follow</c>, <c>:CheckpointPath</c> and <c>:PollInterval</c> (a relative
    /// configured path is resolved against the host's content root).
    /// </summary>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configureSource">Sets the file source's options in code (at least <see cref="FileSourceOptions.Path"/>, unless configuration sets it).</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage, whose items are <see cref="FileLine"/>s.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    /// <remarks>
    /// The merged options are validated when the pipeline is built (or, in a host, at start): every message names the configuration
    /// key, e.g. <c>Pipelines:logs:Stages:read:Path must be the path of a file, was ''</c>.
    /// </remarks>
    public PipelineBuilder<FileLine> FromFile(string name, Action<FileSourceOptions>? configureSource, Action<StageOptions>? configure)
    {
        var options = CreateStageOptions(name, StageKind.Source, configure);
        var code = new FileSourceOptions();
        configureSource?.Invoke(code);
        Add(new FileSourceDefinition(name, options, code), completes: false);
        return new PipelineBuilder<FileLine>(this);
    }

    /// <inheritdoc cref="FromFile(string, Action{FileSourceOptions}, Action{StageOptions})"/>
    public PipelineBuilder<FileLine> FromFile(string name, Action<FileSourceOptions>? configureSource)
        => FromFile(name, configureSource, configure: null);

    /// <inheritdoc cref="FromFile(string, Action{FileSourceOptions}, Action{StageOptions})"/>
    public PipelineBuilder<FileLine> FromFile(string name)
        => FromFile(name, configureSource: null, configure: null);

    /// <summary>
    /// Starts the pipeline with an acknowledging source class resolved from dependency injection for each run (in the run's own
    /// scope): the registered service, or else a new instance with its dependencies injected. See
    /// <see cref="From{T}(string, IAcknowledgingSource{T}, Action{StageOptions})"/> for how acknowledgement works.
    /// </summary>
    /// <typeparam name="TSource">The source class.</typeparam>
    /// <typeparam name="T">The type of the items the source produces.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    public PipelineBuilder<T> FromAcknowledging<TSource, T>(string name, Action<StageOptions>? configure)
        where TSource : class, IAcknowledgingSource<T> =>
        AddAcknowledgingSource(name, configure, context => context.Resolve<TSource>(name));

    /// <inheritdoc cref="FromAcknowledging{TSource, T}(string, Action{StageOptions})"/>
    public PipelineBuilder<T> FromAcknowledging<TSource, T>(string name)
        where TSource : class, IAcknowledgingSource<T>
        => FromAcknowledging<TSource, T>(name, configure: null);
}
