using System.Threading.Channels;

namespace Pipeline;

/// <summary>
/// Runs an acknowledging source: registers each item's position with the run's <see cref="AcknowledgementTracker"/> and sends the
/// item downstream with its ticket as the envelope's acknowledgement; the stages release it where the item ends, and the run's
/// <see cref="AcknowledgementLedger"/> tells the source the watermark (coalesced, and once more when the run ends).
/// </summary>
internal sealed class AcknowledgingSourceStageRunner<T> : StageRunner
{
    private readonly IAcknowledgingSource<T> _source;
    private readonly ChannelWriter<Envelope<T>> _output;
    private readonly AcknowledgementLedger _ledger;

    public AcknowledgingSourceStageRunner(
        PipelineLifecycle lifecycle, string name, ResolvedStageOptions options, IAcknowledgingSource<T> source, AcknowledgementSettings settings, ChannelWriter<Envelope<T>> output)
        : base(lifecycle, name, 0, options, source)
    {
        _source = source;
        _output = output;
        var tracker = new AcknowledgementTracker(source.AcknowledgeAsync, settings.MaxPending, settings.MaxCount, settings.MaxDelay, lifecycle.TimeProvider);
        _ledger = new AcknowledgementLedger(tracker);
        lifecycle.Acknowledgements = _ledger;
    }

    protected override async Task ExecuteAsync()
    {
        var counter = Counters.CreateWorker();
        if (IsDiscarding || Lifecycle.IsStopRequested)
        {
            return;
        }

        _ledger.Start(exception => Lifecycle.ReportFault(this, exception));
        var tracker = _ledger.Tracker;
        var stoppingToken = Lifecycle.StoppingToken;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, Lifecycle.AbortToken);
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

                var positioned = items.Current;
                counter.In++;
                if (positioned.IsReplay)
                {
                    counter.Replayed++;
                }

                long ticket;
                while (!tracker.TryRegister(positioned.Position, out ticket))
                {
                    // The source ran as far ahead of its last acknowledgement as allowed: wait until one is sent (or the watermark moves).
                    try
                    {
                        await tracker.WaitForRoomAsync(stopping.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                    {
                        // Stopped or aborted: the item cannot be tracked, and is given up untracked (the source reads it again after a
                        // restart). A stop must not wait here: what the source waits for may be a batch that fills only with more items.
                        await DiscardAsync(positioned.Item, acknowledgement: 0, counter).ConfigureAwait(false);
                        return;
                    }
                }

                // Once read, an item is delivered: as for a plain source, only the deadline's closing of the handoff gives it up.
                var envelope = new Envelope<T>(positioned.Item, ticket, sampler?.Sample(positioned.TraceContext));
                if (!await HandOnAsync(writer, envelope, counter).ConfigureAwait(false))
                {
                    await GiveUpAtDeadlineAsync(envelope.Item, envelope.Acknowledgement, counter).ConfigureAwait(false);
                    break;
                }
            }
        }
    }

    protected override Task DiscardInputAsync() => Task.CompletedTask;

    protected override void CompleteOutput() => _output.TryComplete();
}
