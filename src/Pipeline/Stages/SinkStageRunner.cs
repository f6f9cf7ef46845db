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
        var sunk = new SunkAcknowledgements(this);
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
                try
                {
                    sink(envelope.Item);
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
                if (slot.TryEnd())
                {
                    counter.Out++;
                    sunk.Add(envelope.Acknowledgement);
                }
            }

            // Nothing more to take now: what was sunk is acknowledged before the worker waits.
            sunk.Flush();
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
        var sunk = new SunkAcknowledgements(this);
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
                try
                {
                    var pending = sink.WriteAsync(envelope.Item, abortToken);
                    if (!pending.IsCompletedSuccessfully)
                    {
                        // This item may take long: what was sunk before it is not held back behind it.
                        sunk.Flush();
                        await pending.ConfigureAwait(false);
                    }
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
                if (slot.TryEnd())
                {
                    counter.Out++;
                    sunk.Add(envelope.Acknowledgement);
                }
            }

            // Nothing more to take now: what was sunk is acknowledged before the worker waits.
            sunk.Flush();
        }
        while (await WaitForInputAsync(reader, counter).ConfigureAwait(false));
    }

    /// <summary>
    /// The acknowledgements of items one worker sunk, released in chunks: the watermark moves once per chunk instead of once per
    /// item (each move touches memory the source's thread writes too). Flushed whenever the worker runs out of input and before it
    /// awaits a write that did not complete at once, so an acknowledgement waits at most for the chunk to fill while items keep
    /// coming (or, behind a synchronous sink that blocks, for that call).
    /// </summary>
    private sealed class SunkAcknowledgements(StageRunner stage)
    {
        private readonly long[] _pending = new long[64];
        private int _count;

        public void Add(long acknowledgement)
        {
            if (acknowledgement == 0)
            {
                return;
            }

            _pending[_count++] = acknowledgement;
            if (_count == _pending.Length)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (_count > 0)
            {
                stage.ReleaseAcknowledgements(_pending.AsSpan(0, _count));
                _count = 0;
            }
        }
    }
}
