using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;

namespace Pipeline;

/// <summary>One stage as declared by the builder: its name, role, code options, and how to create its runner for a run.</summary>
internal abstract class StageDefinition(string name, StageKind kind, StageOptions codeOptions)
{
    public string Name { get; } = name;

    public StageKind Kind { get; } = kind;

    public StageOptions CodeOptions { get; } = codeOptions;

    /// <summary>Gets whether this is an acknowledging source (its items are tracked for acknowledgement).</summary>
    public virtual bool IsAcknowledging => false;

    /// <summary>Gets the batch size of a batching step; <see langword="null"/> for other stages.</summary>
    public virtual int? BatchSize => null;

    /// <summary>Creates the runner; <paramref name="output"/> is the downstream stage's input writer (<see langword="null"/> for the sink).</summary>
    public abstract StageRunner CreateRunner(StageRunContext context, int index, ResolvedStageOptions options, object? output);

    /// <summary>Returns the runner's input writer, for the upstream stage to write to.</summary>
    public abstract object? GetInputWriter(StageRunner runner);
}

/// <summary>What a stage definition needs to create its runner: the run's lifecycle and the services to resolve stages from.</summary>
internal sealed class StageRunContext(PipelineLifecycle lifecycle, IServiceProvider? services)
{
    private readonly List<object> _owned = [];
    private AsyncServiceScope? _scope;

    public PipelineLifecycle Lifecycle { get; } = lifecycle;

    /// <summary>The services the pipeline was built with, if any.</summary>
    public IServiceProvider? Services => services;

    /// <summary>How an acknowledging source's items are acknowledged in this run.</summary>
    public AcknowledgementSettings Acknowledgement { get; init; } = new();

    /// <summary>Stage objects created for this run (not taken from the container), disposed when the run ends.</summary>
    public IReadOnlyList<object> Owned => _owned;

    /// <summary>Makes the run dispose <paramref name="owned"/> when it ends.</summary>
    public void Own(object owned) => _owned.Add(owned);

    /// <summary>Returns the stage's resilience pipeline, or <see langword="null"/> when it has none to run (see <see cref="StageResilience.Create"/>).</summary>
    public ResilientCall<TResult>? CreateResilience<TResult>(ResolvedStageOptions options, string stageName) =>
        StageResilience.Create<TResult>(options.Resilience, Lifecycle, services, stageName, Own);

    /// <summary>
    /// Resolves <typeparamref name="TStage"/> in the run's own service scope (so a scoped dependency, such as a database
    /// context, lives as long as the run): the registered service if any, otherwise a new instance with its dependencies injected.
    /// </summary>
    public TStage Resolve<TStage>(string stageName)
        where TStage : class
    {
        if (services is null)
        {
            throw new InvalidOperationException(
                $"Stage '{stageName}' is resolved from dependency injection ({typeof(TStage).Name}); build the pipeline with a service provider.");
        }

        if (_scope is null)
        {
            var scope = services.CreateAsyncScope();
            _scope = scope;
            _owned.Add(scope);
        }

        var provider = _scope.Value.ServiceProvider;
        if (provider.GetService<TStage>() is { } registered)
        {
            return registered;
        }

        var created = ActivatorUtilities.CreateInstance<TStage>(provider);
        _owned.Insert(0, created);
        return created;
    }
}

/// <summary>A stage that consumes <typeparamref name="TIn"/>: its runner exposes the input writer.</summary>
internal abstract class ConsumerStageDefinition<TIn>(string name, StageKind kind, StageOptions codeOptions)
    : StageDefinition(name, kind, codeOptions)
{
    public override object? GetInputWriter(StageRunner runner) => ((ConsumerStageRunner<TIn>)runner).InputWriter;

    protected static ChannelWriter<Envelope<TOut>> OutputOf<TOut>(object? output) =>
        output as ChannelWriter<Envelope<TOut>> ?? throw new InvalidOperationException("The stage's downstream input has the wrong type.");
}

internal sealed class SourceDefinition<T>(string name, StageOptions codeOptions, Func<StageRunContext, ISource<T>> factory)
    : StageDefinition(name, StageKind.Source, codeOptions)
{
    public override StageRunner CreateRunner(StageRunContext context, int index, ResolvedStageOptions options, object? output) =>
        new SourceStageRunner<T>(context.Lifecycle, Name, options, factory(context),
            output as ChannelWriter<Envelope<T>> ?? throw new InvalidOperationException("The source's downstream input has the wrong type."));

    public override object? GetInputWriter(StageRunner runner) => null;
}

internal sealed class AcknowledgingSourceDefinition<T>(string name, StageOptions codeOptions, Func<StageRunContext, IAcknowledgingSource<T>> factory)
    : StageDefinition(name, StageKind.Source, codeOptions)
{
    public override bool IsAcknowledging => true;

    public override StageRunner CreateRunner(StageRunContext context, int index, ResolvedStageOptions options, object? output) =>
        new AcknowledgingSourceStageRunner<T>(context.Lifecycle, Name, options, factory(context), context.Acknowledgement,
            output as ChannelWriter<Envelope<T>> ?? throw new InvalidOperationException("The source's downstream input has the wrong type."));

    public override object? GetInputWriter(StageRunner runner) => null;
}

internal sealed class TransformDefinition<TIn, TOut>(string name, StageOptions codeOptions, Func<StageRunContext, ITransform<TIn, TOut>> factory)
    : ConsumerStageDefinition<TIn>(name, StageKind.Transform, codeOptions)
{
    public override StageRunner CreateRunner(StageRunContext context, int index, ResolvedStageOptions options, object? output)
    {
        var transform = factory(context);
        var resilient = context.CreateResilience<TOut>(options, Name) is { } resilience ? new ResilientTransform<TIn, TOut>(transform, resilience) : transform;
        return new TransformStageRunner<TIn, TOut>(context.Lifecycle, Name, index, options, resilient, transform, OutputOf<TOut>(output));
    }
}

internal sealed class ManyTransformDefinition<TIn, TOut>(string name, StageOptions codeOptions, Func<StageRunContext, IManyTransform<TIn, TOut>> factory)
    : ConsumerStageDefinition<TIn>(name, StageKind.Transform, codeOptions)
{
    public override StageRunner CreateRunner(StageRunContext context, int index, ResolvedStageOptions options, object? output)
    {
        var transform = factory(context);
        var resilient = context.CreateResilience<CallDone>(options, Name) is { } resilience ? new ResilientManyTransform<TIn, TOut>(transform, resilience) : transform;
        return new ManyTransformStageRunner<TIn, TOut>(context.Lifecycle, Name, index, options, resilient, transform, OutputOf<TOut>(output));
    }
}

internal sealed class BatchDefinition<T>(string name, StageOptions codeOptions, int size, TimeSpan maxDelay)
    : ConsumerStageDefinition<T>(name, StageKind.Batch, codeOptions)
{
    public override int? BatchSize => size;

    public override StageRunner CreateRunner(StageRunContext context, int index, ResolvedStageOptions options, object? output) =>
        new BatchStageRunner<T>(context.Lifecycle, Name, index, options, size, maxDelay, OutputOf<IReadOnlyList<T>>(output));
}

internal sealed class SinkDefinition<T>(string name, StageOptions codeOptions, Func<StageRunContext, ISink<T>> factory)
    : ConsumerStageDefinition<T>(name, StageKind.Sink, codeOptions)
{
    public override StageRunner CreateRunner(StageRunContext context, int index, ResolvedStageOptions options, object? output)
    {
        var sink = factory(context);
        var resilient = context.CreateResilience<CallDone>(options, Name) is { } resilience ? new ResilientSink<T>(sink, resilience) : sink;
        return new SinkStageRunner<T>(context.Lifecycle, Name, index, options, resilient, sink);
    }
}
