using System.Threading.Channels;

namespace Pipeline;

/// <summary>
/// Groups items into batches of at most <c>size</c>, emitting a batch when it is full or when <c>maxDelay</c> has passed since
/// its first item, whichever comes first. Time comes from the run's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class BatchStageRunner<T> : ConsumerStageRunner<T>
{
    private readonly int _size;
    private readonly TimeSpan _maxDelay;
    private readonly ChannelWriter<Envelope<IReadOnlyList<T>>> _output;

    /// <summary>The trace of the first traced item in the batch being filled; the batch carries it (the stage has one worker).</summary>
    private ItemTrace? _batchTrace;

    /// <summary>
    /// Called, when set, after each pass that took what the input held, with the stage and how many items its batch holds: lets a
    /// test wait until the batch holds the items it expects before it moves a fake clock past the batch's deadline. Null in
    /// production.
    /// </summary>
    internal static Action<BatchStageRunner<T>, int>? FilledObserver;

    public BatchStageRunner(PipelineLifecycle lifecycle, string name, int index, ResolvedStageOptions options, int size, TimeSpan maxDelay, ChannelWriter<Envelope<IReadOnlyList<T>>> output)
        : base(lifecycle, name, index, options, instance: null)
    {
        _size = size;
        _maxDelay = maxDelay;
        _output = output;
    }

    protected override async Task ExecuteAsync()
    {
        var counter = Counters.CreateWorker();
        var reader = Input;
        List<T>? batch = null;

        // The acknowledgements the batch's items carry, in step with them; the emitted batch carries them as one group.
        var acknowledgements = new List<long>();
        CancellationTokenSource? deadline = null;
        CancellationTokenRegistration abortRegistration = default;
        try
        {
            while (true)
            {
                while ((batch is null || batch.Count < _size) && reader.TryRead(out var envelope))
                {
                    counter.In++;
                    if (IsDiscarding)
                    {
                        await DiscardRestAsync(envelope, reader, counter).ConfigureAwait(false);
                        continue;
                    }

                    if (batch is null)
                    {
                        batch = new List<T>(Math.Min(_size, 1024));
                        deadline = new CancellationTokenSource(_maxDelay, Lifecycle.TimeProvider);

                        // An abort ends the wait for the batch's deadline too, so a partial batch is discarded at once.
                        abortRegistration = Lifecycle.AbortToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), deadline);
                    }

                    batch.Add(envelope.Item);
                    _batchTrace ??= envelope.Trace;
                    acknowledgements.Add(envelope.Acknowledgement);
                }

                FilledObserver?.Invoke(this, batch?.Count ?? 0);

                if (batch is not null && IsDiscarding)
                {
                    await DiscardAllAsync(batch, acknowledgements, counter).ConfigureAwait(false);
                    Reset(ref batch, ref deadline, ref abortRegistration);
                    acknowledgements.Clear();
                }

                if (batch is not null && (batch.Count == _size || deadline!.IsCancellationRequested))
                {
                    await EmitAsync(batch, acknowledgements, counter).ConfigureAwait(false);
                    Reset(ref batch, ref deadline, ref abortRegistration);
                    acknowledgements.Clear();
                    continue;
                }

                bool more;
                if (batch is null)
                {
                    more = await WaitForInputAsync(reader, counter).ConfigureAwait(false);
                }
                else
                {
                    // Waiting for data takes no item, so cancelling this wait at the deadline loses nothing.
                    var wait = reader.WaitToReadAsync(deadline!.Token).AsTask();
                    var waitStarted = counter.Clock.GetTimestamp();
                    await ((Task)wait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    counter.StarvedTicks += counter.Clock.GetTimestamp() - waitStarted;
                    if (wait.IsCanceled)
                    {
                        continue;
                    }

                    more = await wait.ConfigureAwait(false);
                }

                if (!more)
                {
                    break;
                }
            }

            if (batch is not null)
            {
                if (IsDiscarding)
                {
                    await DiscardAllAsync(batch, acknowledgements, counter).ConfigureAwait(false);
                }
                else
                {
                    await EmitAsync(batch, acknowledgements, counter).ConfigureAwait(false);
                }

                Reset(ref batch, ref deadline, ref abortRegistration);
                acknowledgements.Clear();
            }
        }
        finally
        {
            abortRegistration.Dispose();
            deadline?.Dispose();
        }
    }

    protected override void CompleteOutput() => _output.TryComplete();

    /// <inheritdoc/>
    public override bool IsOneToOne => false;

    private async ValueTask EmitAsync(List<T> batch, List<long> acknowledgements, StageCounter counter)
    {
        var group = Lifecycle.Acknowledgements is { } ledger ? ledger.Group(acknowledgements) : 0;
        var envelope = new Envelope<IReadOnlyList<T>>(batch, group, _batchTrace);
        _batchTrace = null;
        counter.Out += batch.Count;
        counter.Produced++;
        if (!_output.TryWrite(envelope) && !await WriteSlowAsync(_output, envelope, counter).ConfigureAwait(false))
        {
            counter.Out -= batch.Count;
            counter.Produced--;

            // Each item is given up; the group releases their acknowledgements once, if the items were kept in the dead-letter store
            // (abandoned, they must be read again after a restart).
            foreach (var item in batch)
            {
                await GiveUpAtDeadlineAsync(item, acknowledgement: 0, counter).ConfigureAwait(false);
            }

            if (Lifecycle.DeadLetters is not null)
            {
                ReleaseAcknowledgement(group);
            }
        }
    }

    /// <summary>Discards a partial batch, handing its items to the dead-letter store together (see <see cref="StageRunner.GiveUpManyAsync"/>).</summary>
    private ValueTask DiscardAllAsync(List<T> batch, List<long> acknowledgements, StageCounter counter)
    {
        _batchTrace = null;
        var envelopes = new List<Envelope<T>>(batch.Count);
        for (var index = 0; index < batch.Count; index++)
        {
            envelopes.Add(new Envelope<T>(batch[index], acknowledgements[index]));
        }

        return GiveUpManyAsync(envelopes, atDeadline: false, counter);
    }

    private static void Reset(ref List<T>? batch, ref CancellationTokenSource? deadline, ref CancellationTokenRegistration abortRegistration)
    {
        batch = null;
        abortRegistration.Dispose();
        abortRegistration = default;
        deadline?.Dispose();
        deadline = null;
    }
}
