using System.Threading.Channels;

namespace Pipeline;

/// <summary>A stage with an input handoff: every stage but the source. Owns the handoff and its drop accounting.</summary>
internal abstract class ConsumerStageRunner<TIn> : StageRunner
{
    private readonly Channel<Envelope<TIn>> _input;

    protected ConsumerStageRunner(PipelineLifecycle lifecycle, string name, int index, ResolvedStageOptions options, object? instance)
        : base(lifecycle, name, index, options, instance)
    {
        var counters = Counters;
        _input = StageHandoff.Create<TIn>(options.Handoff, dropped =>
        {
            counters.CountHandoffDrop();
            ReleaseAcknowledgement(dropped.Acknowledgement);
        });
    }

    /// <summary>The writer that the upstream stage writes to.</summary>
    public ChannelWriter<Envelope<TIn>> InputWriter => _input.Writer;

    protected ChannelReader<Envelope<TIn>> Input => _input.Reader;

    public override int? InputDepth => _input.Reader.CanCount ? _input.Reader.Count : null;

    /// <summary>Runs <paramref name="worker"/> <see cref="ResolvedStageOptions.Parallelism"/> times concurrently, each with its own counter.</summary>
    protected Task RunWorkersAsync(Func<StageCounter, Task> worker)
    {
        if (Options.Parallelism == 1)
        {
            return worker(Counters.CreateWorker());
        }

        var workers = new Task[Options.Parallelism];
        for (var index = 0; index < workers.Length; index++)
        {
            var counter = Counters.CreateWorker();
            workers[index] = Task.Run(() => worker(counter));
        }

        return Task.WhenAll(workers);
    }

    protected override Task DrainInputAtDeadlineAsync(StageCounter counter) => GiveUpInputAsync(atDeadline: true, counter);

    protected override Task DiscardInputAsync()
    {
        StartDiscarding();
        return GiveUpInputAsync(atDeadline: false, Counters.CreateWorker());
    }

    /// <summary>Reads the input to its end, giving every item up in groups of what is waiting (see <see cref="StageRunner.GiveUpManyAsync"/>).</summary>
    private Task GiveUpInputAsync(bool atDeadline, StageCounter counter) => GiveUpAllAsync(Input, atDeadline, countIn: true, counter);
}
