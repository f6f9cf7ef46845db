using System.Threading.Channels;

namespace Pipeline;

/// <summary>Runs a one-to-one transform with one or more workers, ordered or not.</summary>
internal sealed class TransformStageRunner<TIn, TOut> : ConsumerStageRunner<TIn>
{
    private readonly ITransform<TIn, TOut> _transform;
    private readonly ChannelWriter<Envelope<TOut>> _output;

    public TransformStageRunner(PipelineLifecycle lifecycle, string name, int index, ResolvedStageOptions options, ITransform<TIn, TOut> transform, object hooks, ChannelWriter<Envelope<TOut>> output)
        : base(lifecycle, name, index, options, hooks)
    {
        _transform = transform;
        _output = output;
    }

    protected override Task ExecuteAsync()
    {
        if (Options.Parallelism > 1 && Options.Ordered)
        {
            return new OrderedParallelExecutor<TIn, TOut>(this, Input, new SingleAsManyTransform<TIn, TOut>(_transform), _output).RunAsync();
        }

        return _transform is SyncDelegateTransform<TIn, TOut> synchronous
            ? RunWorkersAsync(counter => SynchronousWorkerAsync(synchronous.Function, counter))
            : RunWorkersAsync(WorkerAsync);
    }

    protected override void CompleteOutput() => _output.TryComplete();

    /// <summary>The worker for a synchronous delegate: the same loop, calling the delegate directly.</summary>
    private async Task SynchronousWorkerAsync(Func<TIn, TOut> transform, StageCounter counter)
    {
        var reader = Input;
        var writer = _output;
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

                slot.Begin(envelope.Item, envelope.Acknowledgement);
                var call = BeginCall(envelope.Trace);
                TOut result;
                try
                {
                    result = transform(envelope.Item);
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
                    // Taken over at the shutdown deadline, which accounted for it.
                    continue;
                }

                var output = new Envelope<TOut>(result, envelope.Acknowledgement, envelope.Trace);
                if (!await HandOnAsync(writer, output, counter).ConfigureAwait(false))
                {
                    await GiveUpAtDeadlineAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                    continue;
                }
            }
        }
        while (await WaitForInputAsync(reader, counter).ConfigureAwait(false));
    }

    private async Task WorkerAsync(StageCounter counter)
    {
        var reader = Input;
        var writer = _output;
        var transform = _transform;
        var abortToken = Lifecycle.AbortToken;
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

                slot.Begin(envelope.Item, envelope.Acknowledgement);
                var call = BeginCall(envelope.Trace);
                TOut result;
                try
                {
                    var pending = transform.TransformAsync(envelope.Item, abortToken);
                    result = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
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
                    // Taken over at the shutdown deadline, which accounted for it.
                    continue;
                }

                var output = new Envelope<TOut>(result, envelope.Acknowledgement, envelope.Trace);
                if (!await HandOnAsync(writer, output, counter).ConfigureAwait(false))
                {
                    await GiveUpAtDeadlineAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                    continue;
                }
            }
        }
        while (await WaitForInputAsync(reader, counter).ConfigureAwait(false));
    }
}
