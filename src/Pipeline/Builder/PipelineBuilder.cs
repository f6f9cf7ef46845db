using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>
/// Declares a pipeline: <c>From</c> a source, <c>Then</c>/<c>ThenMany</c>/<c>Batch</c> steps, <c>To</c> a sink. Each step returns a
/// builder typed by its output, so a stage whose input type does not match its upstream does not compile.
/// </summary>
/// <example>
/// <code>
/// var pipeline = new PipelineBuilder("numbers")
///     .From("read", ReadNumbersAsync)
///     .Then("double", x => x * 2)
///     .To("print", x => Console.WriteLine(x))
///     .Build();
/// PipelineResult result = await pipeline.RunAsync(stoppingToken);
/// </code>
/// </example>
public sealed partial class PipelineBuilder
{
    private readonly List<StageDefinition> _stages = [];

    /// <summary>Initializes a builder for the pipeline named <paramref name="name"/>.</summary>
    /// <param name="name">The pipeline's name; its configuration lives under <c>Pipelines:{name}</c>.</param>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty or contains ':'.</exception>
    public PipelineBuilder(string name)
    {
        CheckName(name, nameof(name));
        Name = name;
    }

    /// <summary>Gets the pipeline's name.</summary>
    public string Name { get; }

    /// <summary>
    /// Gets the code defaults of every stage's input handoff: each member set here applies to every stage whose code options do not
    /// set it; configuration overrides them.
    /// </summary>
    public HandoffOptions Handoff { get; } = new();

    /// <summary>Gets how the items of an acknowledging source are acknowledged (ignored for a plain source).</summary>
    public AcknowledgementSettings Acknowledgement { get; } = new();

    /// <summary>Gets the code defaults of per-item tracing (<c>Pipelines:{name}:Tracing</c> overrides them).</summary>
    public TracingSettings Tracing { get; } = new();

    /// <summary>Gets whether the pipeline has its sink.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>Starts the pipeline with a source object.</summary>
    /// <typeparam name="T">The type of the items the source produces.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="source">The source.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="source"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    public PipelineBuilder<T> From<T>(string name, ISource<T> source, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(source);
        return AddSource(name, configure, _ => source);
    }

    /// <inheritdoc cref="From{T}(string, ISource{T}, Action{StageOptions})"/>
    public PipelineBuilder<T> From<T>(string name, ISource<T> source)
        => From<T>(name, source, configure: null);

    /// <summary>
    /// Starts the pipeline with an acknowledging source: each item's position is tracked through every stage, and the source is
    /// told the contiguous watermark of what the pipeline has accounted for (see <see cref="IAcknowledgingSource{T}"/>).
    /// </summary>
    /// <typeparam name="T">The type of the items the source produces.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="source">The source, such as <see cref="FileSource"/> or <see cref="DeadLetterSource{T}"/>.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="source"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    public PipelineBuilder<T> From<T>(string name, IAcknowledgingSource<T> source, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(source);
        return AddAcknowledgingSource(name, configure, _ => source);
    }

    /// <inheritdoc cref="From{T}(string, IAcknowledgingSource{T}, Action{StageOptions})"/>
    public PipelineBuilder<T> From<T>(string name, IAcknowledgingSource<T> source)
        => From<T>(name, source, configure: null);

    /// <summary>Starts the pipeline with a source delegate.</summary>
    /// <typeparam name="T">The type of the items the source produces.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="source">Returns the items; its argument is cancelled when the pipeline is asked to stop.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="source"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    public PipelineBuilder<T> From<T>(string name, Func<CancellationToken, IAsyncEnumerable<T>> source, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(source);
        var instance = new DelegateSource<T>(source);
        return AddSource(name, configure, _ => instance);
    }

    /// <inheritdoc cref="From{T}(string, Func{CancellationToken, IAsyncEnumerable{T}}, Action{StageOptions})"/>
    public PipelineBuilder<T> From<T>(string name, Func<CancellationToken, IAsyncEnumerable<T>> source)
        => From<T>(name, source, configure: null);

    /// <summary>Starts the pipeline with a synchronous sequence (an in-memory collection, or a reader that never blocks for long).</summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="items">The items; enumerated once per run, and no further once the pipeline is asked to stop.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="items"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    public PipelineBuilder<T> From<T>(string name, IEnumerable<T> items, Action<StageOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(items);
        var instance = new EnumerableSource<T>(items);
        return AddSource(name, configure, _ => instance);
    }

    /// <inheritdoc cref="From{T}(string, IEnumerable{T}, Action{StageOptions})"/>
    public PipelineBuilder<T> From<T>(string name, IEnumerable<T> items)
        => From<T>(name, items, configure: null);

    /// <summary>Starts the pipeline with a source class resolved from dependency injection for each run.</summary>
    /// <typeparam name="TSource">The source class: the registered service, or else created with its dependencies injected.</typeparam>
    /// <typeparam name="T">The type of the items the source produces.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Sets the stage's code options; configuration overrides them.</param>
    /// <returns>A builder for the next stage.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is empty, contains ':' or is already used.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline already has a source.</exception>
    public PipelineBuilder<T> From<TSource, T>(string name, Action<StageOptions>? configure)
        where TSource : class, ISource<T> =>
        AddSource(name, configure, context => context.Resolve<TSource>(name));

    /// <inheritdoc cref="From{TSource, T}(string, Action{StageOptions})"/>
    public PipelineBuilder<T> From<TSource, T>(string name)
        where TSource : class, ISource<T>
        => From<TSource, T>(name, configure: null);

    /// <summary>Builds the pipeline so that it can run without a host.</summary>
    /// <param name="services">Resolves stage classes declared by type; may be <see langword="null"/> when every stage is an object or a delegate.</param>
    /// <param name="configuration">Overrides the code options, as <c>Pipelines:{name}</c> would in a host.</param>
    /// <param name="timeProvider">The run's clock: batching deadlines, rate limits, the progress line and each stage's elapsed, starved and blocked time (the bottleneck report); <see cref="TimeProvider.System"/> by default (or the one registered in <paramref name="services"/>).</param>
    /// <returns>The pipeline.</returns>
    /// <exception cref="InvalidOperationException">Thrown when the pipeline has no sink yet.</exception>
    /// <exception cref="OptionsValidationException">Thrown when <paramref name="configuration"/> is invalid, or a file source's options (code and configuration together) are; the message names each bad key and its allowed values.</exception>
    /// <exception cref="ArgumentException">Thrown when a setting of <see cref="Acknowledgement"/> or <see cref="Tracing"/> is out of range; the message names it and its allowed values.</exception>
    public DataPipeline Build(IServiceProvider? services = null, PipelineOptions? configuration = null, TimeProvider? timeProvider = null)
    {
        var definition = ToDefinition();
        definition.Acknowledgement.Validate($"Pipeline '{Name}': Acknowledgement.", definition.LargestAcknowledgedBatch);
        definition.Tracing.Validate($"Pipeline '{Name}': Tracing.");
        if (configuration is not null)
        {
            var errors = PipelineOptionsValidator.Collect(definition, configuration, services?.GetService<IDeadLetterStore>() is not null, services);
            if (errors.Count > 0)
            {
                throw new OptionsValidationException(Name, typeof(PipelineOptions), errors);
            }
        }
        else
        {
            var errors = new List<string>();
            PipelineOptionsValidator.CheckFileSources(definition, options: null, errors);
            if (errors.Count > 0)
            {
                throw new OptionsValidationException(Name, typeof(PipelineOptions), errors);
            }
        }

        return new DataPipeline(
            definition,
            configuration,
            services,
            timeProvider ?? services?.GetService<TimeProvider>() ?? TimeProvider.System,
            services?.GetService<ILoggerFactory>());
    }

    internal PipelineDefinition ToDefinition()
    {
        if (!IsComplete)
        {
            throw new InvalidOperationException($"Pipeline '{Name}' has no sink: end it with To(...).");
        }

        return new PipelineDefinition(Name, Handoff.Clone(), _stages.ToArray()) { Acknowledgement = Acknowledgement.Clone(), Tracing = Tracing.Clone() };
    }

    internal void Add(StageDefinition stage, bool completes)
    {
        if (IsComplete)
        {
            throw new InvalidOperationException($"Pipeline '{Name}' already ends with its sink '{_stages[^1].Name}'.");
        }

        if (stage.Kind == StageKind.Source ? _stages.Count > 0 : _stages.Count == 0)
        {
            throw new InvalidOperationException(_stages.Count > 0
                ? $"Pipeline '{Name}' already has its source '{_stages[0].Name}'."
                : $"Pipeline '{Name}' must start with From(...).");
        }

        _stages.Add(stage);
        IsComplete = completes;
    }

    /// <summary>Checks a stage name and returns its code options.</summary>
    internal StageOptions CreateStageOptions(string name, StageKind kind, Action<StageOptions>? configure)
    {
        CheckName(name, nameof(name));
        if (_stages.Any(stage => string.Equals(stage.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"Pipeline '{Name}' already has a stage named '{name}'.", nameof(name));
        }

        var options = new StageOptions();
        configure?.Invoke(options);
        var errors = new List<string>();
        PipelineOptionsValidator.CheckStage($"Stage '{name}'", kind, options, errors);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(configure));
        }

        return options;
    }

    private PipelineBuilder<T> AddSource<T>(string name, Action<StageOptions>? configure, Func<StageRunContext, ISource<T>> factory)
    {
        var options = CreateStageOptions(name, StageKind.Source, configure);
        Add(new SourceDefinition<T>(name, options, factory), completes: false);
        return new PipelineBuilder<T>(this);
    }

    internal PipelineBuilder<T> AddAcknowledgingSource<T>(string name, Action<StageOptions>? configure, Func<StageRunContext, IAcknowledgingSource<T>> factory)
    {
        var options = CreateStageOptions(name, StageKind.Source, configure);
        Add(new AcknowledgingSourceDefinition<T>(name, options, factory), completes: false);
        return new PipelineBuilder<T>(this);
    }

    private static void CheckName(string name, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameterName);
        if (name.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A name must not contain ':' (it is a configuration key), was '{name}'.", parameterName);
        }
    }
}
