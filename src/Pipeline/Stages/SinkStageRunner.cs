namespace Pipeline;

/// <summary>Runs the sink with one or more workers.</summary>
internal sealed class SinkStageRunner<T> : ConsumerStageRunner<T>
{
    private readonly ISink<T> _sink;

    public SinkStageRunner(PipelineLifecycle lifecycle, string name, int index, ResolvedStageOptions options, ISink<T> sink, object hooks)
        : base(lifecycle, name, index, options, hooks)
    {
        _sink = sink;
    }

    protected override Task ExecuteAsync() => _sink is SyncDelegateSink<T> synchronous
        ? RunWorkersAsync(counter => SynchronousWorkerAsync(synchronous.Action, counter))
        : RunWorkersAsync(WorkerAsync);

    /// <summary>The worker for a synchronous delegate: the same loop, calling the delegate directly.</summary>
    private async Task SynchronousWorkerAsync(Action<T> sink, StageCounter counter)
    {
        var reader = Input;
        var slot = CreateSlot<T>();
        do
        {
            while (reader.TryRead(out var envelope))
            {
                counter.In++;
                if (IsDiscarding)
                {
                    await DiscardAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                    continue;
                }

                slot.Begin(envelope.Item, envelope.Acknowledgement);
                try
                {
                    sink(envelope.Item);
                }
                catch (Exception exception)
                {
                    if (slot.TryEnd())
                    {
                        await HandleItemErrorAsync(envelope.Item, envelope.Acknowledgement, exception, counter).ConfigureAwait(false);
                    }

                    continue;
                }

                if (slot.TryEnd())
                {
                    counter.Out++;
                    ReleaseAcknowledgement(envelope.Acknowledgement);
                }
            }
        }
        while (await WaitForInputAsync(reader, counter).ConfigureAwait(false));
    }

    protected override void CompleteOutput()
    {
    }

    private async Task WorkerAsync(StageCounter counter)
    {
        var reader = Input;
        var sink = _sink;
        var abortToken = Lifecycle.AbortToken;
        var slot = CreateSlot<T>();
        do
        {
            while (reader.TryRead(out var envelope))
            {
                counter.In++;
                if (IsDiscarding)
                {
                    await DiscardAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                    continue;
                }

                slot.Begin(envelope.Item, envelope.Acknowledgement);
                try
                {
                    var pending = sink.WriteAsync(envelope.Item, abortToken);
                    if (!pending.IsCompletedSuccessfully)
                    {
                        await pending.ConfigureAwait(false);
                    }
                }
                catch (Exception exception)
                {
                    if (slot.TryEnd())
                    {
                        await HandleItemErrorAsync(envelope.Item, envelope.Acknowledgement, exception, counter).ConfigureAwait(false);
                    }

                    continue;
                }

                if (slot.TryEnd())
                {
                    counter.Out++;
                    ReleaseAcknowledgement(envelope.Acknowledgement);
                }
            }
        }
        while (await WaitForInputAsync(reader, counter).ConfigureAwait(false));
    }
}
