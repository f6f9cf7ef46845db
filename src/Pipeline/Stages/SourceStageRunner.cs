using System.Threading.Channels;

namespace Pipeline;

/// <summary>Runs the source: asks it for items only while no stop is requested, and delivers every item it yields.</summary>
internal sealed class SourceStageRunner<T> : StageRunner
{
    private readonly ISource<T> _source;
    private readonly ChannelWriter<Envelope<T>> _output;

    public SourceStageRunner(PipelineLifecycle lifecycle, string name, ResolvedStageOptions options, ISource<T> source, ChannelWriter<Envelope<T>> output)
        : base(lifecycle, name, 0, options, source)
    {
        _source = source;
        _output = output;
    }

    protected override async Task ExecuteAsync()
    {
        var counter = Counters.CreateWorker();
        if (IsDiscarding || Lifecycle.IsStopRequested)
        {
            return;
        }

        if (_source is EnumerableSource<T> enumerable)
        {
            await ProduceAsync(enumerable.Items, counter).ConfigureAwait(false);
            return;
        }

        var stoppingToken = Lifecycle.StoppingToken;
        var writer = _output;
        var sampler = Lifecycle.Sampler;
        var items = _source.ReadAsync(stoppingToken).GetAsyncEnumerator(stoppingToken);
        await using (items.ConfigureAwait(false))
        {
            while (!Lifecycle.IsStopRequested && !IsDiscarding)
            {
                try
                {
                    var next = items.MoveNextAsync();
                    if (!(next.IsCompletedSuccessfully ? next.Result : await next.ConfigureAwait(false)))
                    {
                        Lifecycle.IsSourceExhausted = !Lifecycle.IsStopRequested;
                        break;
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }

                counter.In++;

                // Once read, an item is delivered: the write is never cancelled, so no item is lost between the source and
                // its handoff (the downstream stage reads its input to the end, discarding if it must). Only the shutdown
                // deadline closes the handoff under a blocked write, and then the item is given up, not lost.
                var envelope = new Envelope<T>(items.Current, 0, sampler?.Sample(default));
                if (!await HandOnAsync(writer, envelope, counter).ConfigureAwait(false))
                {
                    await GiveUpAtDeadlineAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                    break;
                }
            }
        }
    }

    protected override Task DiscardInputAsync() => Task.CompletedTask;

    /// <summary>Produces from a synchronous sequence: the same loop as for an asynchronous one, without its per-item asynchronous step.</summary>
    private async Task ProduceAsync(IEnumerable<T> items, StageCounter counter)
    {
        var writer = _output;
        var sampler = Lifecycle.Sampler;
        using var enumerator = items.GetEnumerator();
        while (!Lifecycle.IsStopRequested && !IsDiscarding)
        {
            if (!enumerator.MoveNext())
            {
                Lifecycle.IsSourceExhausted = !Lifecycle.IsStopRequested;
                break;
            }

            counter.In++;
            var envelope = new Envelope<T>(enumerator.Current, 0, sampler?.Sample(default));
            if (!await HandOnAsync(writer, envelope, counter).ConfigureAwait(false))
            {
                await GiveUpAtDeadlineAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                break;
            }
        }
    }

    protected override void CompleteOutput() => _output.TryComplete();
}
