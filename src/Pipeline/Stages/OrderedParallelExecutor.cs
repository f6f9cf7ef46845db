using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>
/// Runs a transform on several workers and emits the outputs in input order. A dispatcher deals the inputs round-robin to one
/// lane per worker; each worker writes an input's outputs to its lane followed by an end marker; a collector reads the lanes in
/// the same round-robin order, so item <c>i</c>'s outputs leave before item <c>i + 1</c>'s. Allocation-free per item.
/// </summary>
/// <remarks>
/// Once the stage discards (the pipeline faulted at or after it, or was aborted), an input that failed is never overtaken by later
/// ones: after a fault of this stage's own, the outputs of inputs that precede the first failed or discarded one in order still
/// leave; otherwise nothing more is emitted. The collector then drains every lane, giving up the inputs whose outputs it holds back.
/// The collector counts an input as <c>Out</c> when its outputs have left; workers count failures and discards.
/// </remarks>
internal sealed partial class OrderedParallelExecutor<TIn, TOut>
{
    private readonly StageRunner _stage;
    private readonly ChannelReader<Envelope<TIn>> _input;
    private readonly IManyTransform<TIn, TOut> _transform;
    private readonly ChannelWriter<Envelope<TOut>> _output;
    private readonly Channel<Envelope<TIn>>[] _laneInputs;
    private readonly Channel<LaneMessage>[] _laneOutputs;

    public OrderedParallelExecutor(StageRunner stage, ChannelReader<Envelope<TIn>> input, IManyTransform<TIn, TOut> transform, ChannelWriter<Envelope<TOut>> output)
    {
        _stage = stage;
        _input = input;
        _transform = transform;
        _output = output;
        var parallelism = stage.Options.Parallelism;
        var laneOptions = new HandoffOptions
        {
            Kind = stage.Options.Handoff.Kind,
            Capacity = Math.Clamp(stage.Options.Handoff.Capacity / parallelism, 2, 64),
            FullMode = BoundedChannelFullMode.Wait,
        };
        _laneInputs = new Channel<Envelope<TIn>>[parallelism];
        _laneOutputs = new Channel<LaneMessage>[parallelism];
        for (var lane = 0; lane < parallelism; lane++)
        {
            var laneInput = _laneInputs[lane] = Handoff.Create<Envelope<TIn>>(laneOptions);
            _laneOutputs[lane] = Handoff.Create<LaneMessage>(laneOptions);
            stage.AddDeadlineDrain(
                counter => DrainLaneInputAtDeadlineAsync(laneInput.Reader, counter), () => laneInput.Writer.TryComplete(), () => laneInput.Reader.Count);
        }
    }

    public async Task RunAsync()
    {
        var workers = new Task[_laneInputs.Length];
        for (var lane = 0; lane < workers.Length; lane++)
        {
            var index = lane;
            var counter = _stage.Counters.CreateWorker();
            workers[lane] = Task.Run(() => WorkAsync(_laneInputs[index].Reader, _laneOutputs[index].Writer, counter));
        }

        var collector = Task.Run(() => CollectAsync(_stage.Counters.CreateWorker()));
        try
        {
            await DispatchAsync(_stage.Counters.CreateWorker()).ConfigureAwait(false);
        }
        finally
        {
            foreach (var lane in _laneInputs)
            {
                lane.Writer.TryComplete();
            }
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        await collector.ConfigureAwait(false);
    }

    private async Task DispatchAsync(StageCounter counter)
    {
        var reader = _input;
        var lane = 0;
        do
        {
            while (reader.TryRead(out var envelope))
            {
                counter.In++;
                if (_stage.IsDiscarding)
                {
                    await _stage.DiscardRestAsync(envelope, reader, counter).ConfigureAwait(false);
                    continue;
                }

                var writer = _laneInputs[lane].Writer;
                if (!writer.TryWrite(envelope) && !await StageRunner.WriteSlowAsync(writer, envelope, counter: null).ConfigureAwait(false))
                {
                    await _stage.GiveUpAtDeadlineAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                    continue;
                }

                lane = lane + 1 == _laneInputs.Length ? 0 : lane + 1;
            }
        }
        while (await reader.WaitToReadAsync().ConfigureAwait(false));
    }

    private async Task WorkAsync(ChannelReader<Envelope<TIn>> reader, ChannelWriter<LaneMessage> writer, StageCounter counter)
    {
        var abortToken = _stage.Lifecycle.AbortToken;
        var results = new List<TOut>();
        var slot = _stage.CreateSlot<TIn>();
        try
        {
            do
            {
                while (reader.TryRead(out var envelope))
                {
                    var succeeded = false;
                    if (_stage.IsDiscarding)
                    {
                        await _stage.DiscardAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                    }
                    else
                    {
                        results.Clear();
                        slot.Begin(envelope.Item, envelope.Acknowledgement);
                        var call = _stage.BeginCall(envelope.Trace);
                        try
                        {
                            await _transform.TransformAsync(envelope.Item, results, abortToken).ConfigureAwait(false);
                            _stage.EndCall(call, error: null);
                            succeeded = slot.TryEnd();
                        }
                        catch (Exception exception)
                        {
                            _stage.EndCall(call, exception);
                            if (slot.TryEnd())
                            {
                                await _stage.HandleItemErrorAsync(envelope.Item, envelope.Acknowledgement, exception, counter).ConfigureAwait(false);
                            }
                        }

                        if (succeeded)
                        {
                            // Each output carries a reference of the input's acknowledgement; the input keeps its own until its marker.
                            // The last output carries its input, which the collector counts out with it.
                            _stage.AddAcknowledgementReferences(envelope.Acknowledgement, results.Count);
                            for (var index = 0; index < results.Count; index++)
                            {
                                var last = index == results.Count - 1;
                                var output = new Envelope<TOut>(results[index], envelope.Acknowledgement, envelope.Trace);
                                await WriteAsync(writer, last ? new LaneMessage(output, envelope, LaneMessageKind.LastOutput) : new LaneMessage(output, default, LaneMessageKind.Output), counter)
                                    .ConfigureAwait(false);
                            }
                        }
                    }

                    // Every dispatched input ends its lane entry, processed or not, so the collector stays in step: with its last
                    // output, or with a marker. A succeeded input is counted by the collector once its outputs have left (or given up
                    // if they are held back).
                    if (!succeeded || results.Count == 0)
                    {
                        await WriteAsync(writer, new LaneMessage(default, envelope, succeeded ? LaneMessageKind.Succeeded : LaneMessageKind.Accounted), counter).ConfigureAwait(false);
                    }
                }
            }
            while (await StageRunner.WaitForInputAsync(reader, counter).ConfigureAwait(false));
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private async Task CollectAsync(StageCounter counter)
    {
        var output = _output;
        var lane = 0;
        var written = new int[_laneOutputs.Length];
        var haltToken = _stage.Lifecycle.HaltToken;
        while (true)
        {
            var reader = _laneOutputs[lane].Reader;
            while (true)
            {
                if (!reader.TryRead(out var message))
                {
                    bool more;
                    try
                    {
                        // Waiting takes no item, so ending the wait on a fault or abort loses nothing; it keeps a lane whose
                        // worker is stuck from holding up the others, which are then drained.
                        more = await reader.WaitToReadAsync(haltToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (haltToken.IsCancellationRequested)
                    {
                        if (StopsEmitting())
                        {
                            await DrainLanesAsync(written, counter).ConfigureAwait(false);
                            return;
                        }

                        // A fault upstream of this stage: it still drains in order what it has. A fault of this stage's own:
                        // what precedes the failed input still leaves, in order, unless the run is aborted.
                        haltToken = _stage.IsDiscarding ? _stage.Lifecycle.AbortToken : CancellationToken.None;
                        continue;
                    }

                    if (more)
                    {
                        continue;
                    }

                    // Inputs are dealt round-robin: a lane with nothing more means no later input exists.
                    return;
                }

                if (message.Kind is LaneMessageKind.Output or LaneMessageKind.LastOutput)
                {
                    // Counted before the write, undone if it fails (see StageRunner.WriteSlowAsync); the last output's input with it.
                    var last = message.Kind == LaneMessageKind.LastOutput;
                    counter.Produced++;
                    counter.Out += last ? 1 : 0;
                    if (StopsEmitting()
                        || (!output.TryWrite(message.Output) && !await StageRunner.WriteSlowAsync(output, message.Output, counter: null).ConfigureAwait(false)))
                    {
                        counter.Produced--;
                        counter.Out -= last ? 1 : 0;
                        _stage.ReleaseAcknowledgement(message.Output.Acknowledgement);
                        if (last)
                        {
                            var discarded = new List<Envelope<TIn>>(1);
                            EndHeldBackInput(message.Input, written[lane], discarded, counter);
                            await _stage.GiveUpManyAsync(discarded, atDeadline: false, counter).ConfigureAwait(false);
                            written[lane] = 0;
                        }

                        await DrainLanesAsync(written, counter).ConfigureAwait(false);
                        return;
                    }

                    if (!last)
                    {
                        written[lane]++;
                        continue;
                    }

                    _stage.ReleaseAcknowledgement(message.Input.Acknowledgement);
                    written[lane] = 0;
                    break;
                }

                if (message.Kind == LaneMessageKind.Succeeded)
                {
                    counter.Out++;
                    _stage.ReleaseAcknowledgement(message.Input.Acknowledgement);
                }
                else if (_stage.IsDiscarding)
                {
                    // The first input in order that failed or was discarded since the stage began discarding: nothing after it
                    // may leave before it, so nothing more leaves.
                    written[lane] = 0;
                    await DrainLanesAsync(written, counter).ConfigureAwait(false);
                    return;
                }

                written[lane] = 0;
                break;
            }

            lane = lane + 1 == _laneOutputs.Length ? 0 : lane + 1;
        }
    }

    /// <summary>
    /// Whether outputs may no longer leave: the stage discards, unless the fault is this stage's own and the run is not aborted
    /// (then the outputs of inputs that precede the failed one in order still leave; the first failed or discarded input in order
    /// ends the emitting).
    /// </summary>
    private bool StopsEmitting()
    {
        var lifecycle = _stage.Lifecycle;
        return _stage.IsDiscarding && (!ReferenceEquals(lifecycle.FaultedStage, _stage) || lifecycle.IsAborted);
    }

    /// <summary>Once the stage discards: reads every lane to its end, emitting nothing more and giving up inputs none of whose outputs left.</summary>
    private async Task DrainLanesAsync(int[] written, StageCounter counter)
    {
        var drains = new Task[_laneOutputs.Length];
        for (var lane = 0; lane < drains.Length; lane++)
        {
            var index = lane;
            var laneCounter = lane == 0 ? counter : _stage.Counters.CreateWorker();
            drains[lane] = Task.Run(() => DrainLaneAsync(_laneOutputs[index].Reader, written[index], laneCounter));
        }

        await Task.WhenAll(drains).ConfigureAwait(false);
    }

    private async Task DrainLaneAsync(ChannelReader<LaneMessage> reader, int written, StageCounter counter)
    {
        // Inputs held back with none of their outputs gone are discarded in groups of what is waiting: one dead-letter commit per
        // group, not per input, which keeps a store that syncs to disk within a shutdown deadline.
        var discarded = new List<Envelope<TIn>>();
        do
        {
            while (reader.TryRead(out var message))
            {
                switch (message.Kind)
                {
                    case LaneMessageKind.Output:
                        // Not handed on: the reference it carried ends here.
                        _stage.ReleaseAcknowledgement(message.Output.Acknowledgement);
                        break;
                    case LaneMessageKind.LastOutput:
                        _stage.ReleaseAcknowledgement(message.Output.Acknowledgement);
                        EndHeldBackInput(message.Input, written, discarded, counter);
                        written = 0;
                        break;
                    case LaneMessageKind.Succeeded:
                        EndHeldBackInput(message.Input, written, discarded, counter);
                        written = 0;
                        break;
                    default:
                        written = 0;
                        break;
                }

                if (discarded.Count == StageRunner.GiveUpGroupSize)
                {
                    await _stage.GiveUpManyAsync(discarded, atDeadline: false, counter).ConfigureAwait(false);
                }
            }

            if (discarded.Count > 0)
            {
                await _stage.GiveUpManyAsync(discarded, atDeadline: false, counter).ConfigureAwait(false);
            }
        }
        while (await reader.WaitToReadAsync().ConfigureAwait(false));
    }

    /// <summary>
    /// Ends a held-back input in a lane being drained: processed if <paramref name="written"/> of its outputs already left,
    /// otherwise added to <paramref name="discarded"/>.
    /// </summary>
    private void EndHeldBackInput(Envelope<TIn> input, int written, List<Envelope<TIn>> discarded, StageCounter counter)
    {
        if (written == 0)
        {
            discarded.Add(input);
            return;
        }

        counter.Out++;
        _stage.ReleaseAcknowledgement(input.Acknowledgement);
    }

    /// <summary>Dispatched inputs were counted in by the dispatcher; here they are only given up, in groups of what is waiting.</summary>
    private Task DrainLaneInputAtDeadlineAsync(ChannelReader<Envelope<TIn>> reader, StageCounter counter) =>
        _stage.GiveUpAllAsync(reader, atDeadline: true, countIn: false, counter);

    /// <summary>Writes to a lane; the time a full lane (the collector held up downstream) keeps the worker waiting counts as blocked.</summary>
    private static ValueTask WriteAsync(ChannelWriter<LaneMessage> writer, LaneMessage message, StageCounter counter) =>
        writer.TryWrite(message) ? default : WriteLaneSlowAsync(writer, message, counter);

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask WriteLaneSlowAsync(ChannelWriter<LaneMessage> writer, LaneMessage message, StageCounter counter)
    {
        var started = counter.Clock.GetTimestamp();
        try
        {
            await writer.WriteAsync(message).ConfigureAwait(false);
        }
        finally
        {
            counter.BlockedTicks += counter.Clock.GetTimestamp() - started;
        }
    }
}
