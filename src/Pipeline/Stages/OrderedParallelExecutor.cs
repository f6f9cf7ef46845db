using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline;

/// <summary>
/// Runs a transform on several workers and emits the outputs in input order. A dispatcher deals the inputs round-robin to one
/// lane per worker; each worker writes an input's outputs to its lane followed by an end marker; a collector reads the lanes in
/// the same round-robin order, so item <c>i</c>'s outputs leave before item <c>i + 1</c>'s. Allocation-free per item.
/// </summary>
internal sealed class OrderedParallelExecutor<TIn, TOut>
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
            _laneInputs[lane] = Handoff.Create<Envelope<TIn>>(laneOptions);
            _laneOutputs[lane] = Handoff.Create<LaneMessage>(laneOptions);
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
                    await _stage.DiscardAsync(envelope.Item, counter).ConfigureAwait(false);
                    continue;
                }

                var writer = _laneInputs[lane].Writer;
                if (!writer.TryWrite(envelope))
                {
                    await writer.WriteAsync(envelope).ConfigureAwait(false);
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
        try
        {
            do
            {
                while (reader.TryRead(out var envelope))
                {
                    if (_stage.IsDiscarding)
                    {
                        await _stage.DiscardAsync(envelope.Item, counter).ConfigureAwait(false);
                    }
                    else
                    {
                        results.Clear();
                        try
                        {
                            await _transform.TransformAsync(envelope.Item, results, abortToken).ConfigureAwait(false);
                            foreach (var result in results)
                            {
                                await WriteAsync(writer, new LaneMessage(new Envelope<TOut>(result, envelope.Acknowledgement), endOfInput: false)).ConfigureAwait(false);
                            }

                            counter.Out++;
                        }
                        catch (Exception exception)
                        {
                            await _stage.HandleItemErrorAsync(envelope.Item, exception, counter).ConfigureAwait(false);
                        }
                    }

                    // Every dispatched input ends with a marker, processed or not, so the collector stays in step.
                    await WriteAsync(writer, new LaneMessage(default, endOfInput: true)).ConfigureAwait(false);
                }
            }
            while (await reader.WaitToReadAsync().ConfigureAwait(false));
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
        while (true)
        {
            var reader = _laneOutputs[lane].Reader;
            while (true)
            {
                if (!reader.TryRead(out var message))
                {
                    if (await reader.WaitToReadAsync().ConfigureAwait(false))
                    {
                        continue;
                    }

                    // Inputs are dealt round-robin: a lane with nothing more means no later input exists.
                    return;
                }

                if (message.EndOfInput)
                {
                    break;
                }

                if (!output.TryWrite(message.Output))
                {
                    await output.WriteAsync(message.Output).ConfigureAwait(false);
                }

                counter.Produced++;
            }

            lane = lane + 1 == _laneOutputs.Length ? 0 : lane + 1;
        }
    }

    private static ValueTask WriteAsync(ChannelWriter<LaneMessage> writer, LaneMessage message) =>
        writer.TryWrite(message) ? default : writer.WriteAsync(message);

    /// <summary>One output of an input, or the marker that ends an input's outputs.</summary>
    private readonly struct LaneMessage(Envelope<TOut> output, bool endOfInput)
    {
        public Envelope<TOut> Output { get; } = output;

        public bool EndOfInput { get; } = endOfInput;
    }
}
