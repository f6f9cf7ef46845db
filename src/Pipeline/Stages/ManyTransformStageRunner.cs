using System.Threading.Channels;

namespace Pipeline;

/// <summary>Runs a zero-or-more transform with one or more workers, ordered or not.</summary>
internal sealed class ManyTransformStageRunner<TIn, TOut> : ConsumerStageRunner<TIn>
{
    private readonly IManyTransform<TIn, TOut> _transform;
    private readonly ChannelWriter<Envelope<TOut>> _output;

    public ManyTransformStageRunner(PipelineLifecycle lifecycle, string name, int index, ResolvedStageOptions options, IManyTransform<TIn, TOut> transform, object hooks, ChannelWriter<Envelope<TOut>> output)
        : base(lifecycle, name, index, options, hooks)
    {
        _transform = transform;
        _output = output;
    }

    protected override Task ExecuteAsync()
    {
        if (Options.Parallelism > 1 && Options.Ordered)
        {
            return new OrderedParallelExecutor<TIn, TOut>(this, Input, _transform, _output).RunAsync();
        }

        return RunWorkersAsync(WorkerAsync);
    }

    protected override void CompleteOutput() => _output.TryComplete();

    /// <inheritdoc/>
    public override bool IsOneToOne => false;

    private async Task WorkerAsync(StageCounter counter)
    {
        var reader = Input;
        var writer = _output;
        var abortToken = Lifecycle.AbortToken;
        var results = new List<TOut>();
        var slot = CreateSlot<TIn>();
        do
        {
            while (reader.TryRead(out var envelope))
            {
                counter.In++;
                if (IsDiscarding)
                {
                    await DiscardRestAsync(envelope, reader, counter).ConfigureAwait(false);
                    continue;
                }

                results.Clear();
                slot.Begin(envelope.Item, envelope.Acknowledgement);
                var call = BeginCall(envelope.Trace);
                try
                {
                    await _transform.TransformAsync(envelope.Item, results, abortToken).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    EndCall(call, exception);
                    if (slot.TryEnd())
                    {
                        await HandleItemErrorAsync(envelope.Item, envelope.Acknowledgement, exception, counter).ConfigureAwait(false);
                    }

                    continue;
                }

                EndCall(call, error: null);
                if (!slot.TryEnd())
                {
                    continue;
                }

                // Each output carries a reference of the input's acknowledgement; the input keeps its own until it ends here.
                var acknowledgement = envelope.Acknowledgement;
                AddAcknowledgementReferences(acknowledgement, results.Count);
                var delivered = 0;
                foreach (var result in results)
                {
                    var output = new Envelope<TOut>(result, acknowledgement, envelope.Trace);
                    counter.Produced++;
                    if (!writer.TryWrite(output) && !await WriteSlowAsync(writer, output, counter).ConfigureAwait(false))
                    {
                        counter.Produced--;
                        break;
                    }

                    delivered++;
                }

                if (delivered < results.Count)
                {
                    // The output was closed at the shutdown deadline part-way through: the input is given up whole.
                    for (var undelivered = delivered; undelivered < results.Count; undelivered++)
                    {
                        ReleaseAcknowledgement(acknowledgement);
                    }

                    await GiveUpAtDeadlineAsync(envelope.Item, acknowledgement, counter).ConfigureAwait(false);
                    continue;
                }

                counter.Out++;
                ReleaseAcknowledgement(acknowledgement);
            }
        }
        while (await WaitForInputAsync(reader, counter).ConfigureAwait(false));
    }
}
