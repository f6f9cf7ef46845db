namespace Pipeline;

/// <summary>Coalesces acknowledgements by count and time, and sends them to the source one at a time.</summary>
internal sealed partial class AcknowledgementTracker
{
    /// <summary>Serializes sending: the periodic loop and the final flush never call the source concurrently.</summary>
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    /// <summary>Released when <c>_maxCount</c> items were passed since the last acknowledgement.</summary>
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    /// <summary>1 while a release of <see cref="_signal"/> is pending; keeps the semaphore's count at most 1.</summary>
    private int _signalPending;

    /// <summary>The passed count at which to signal; raised by each acknowledgement. A stale (lower) value only signals early.</summary>
    private long _signalAt = long.MaxValue;

    /// <summary>The last position sent to the source; <see cref="NoWatermark"/> before the first. Guarded by <see cref="_sendLock"/>.</summary>
    private long _lastAcknowledged = NoWatermark;

    /// <summary>Gets the last position sent to the source, or <see cref="NoWatermark"/>.</summary>
    public long LastAcknowledged => Volatile.Read(ref _lastAcknowledged);

    /// <summary>
    /// Sends coalesced acknowledgements until <paramref name="cancellationToken"/> is cancelled: when <c>maxCount</c> items were
    /// accounted for since the last one, and every <c>maxDelay</c> if the watermark moved since.
    /// </summary>
    /// <param name="cancellationToken">Ends the loop (normally, not with an exception); call <see cref="FlushAsync"/> after it for the final acknowledgement.</param>
    /// <returns>A task that completes when the loop ends, or faults with the source's exception.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _signalAt, Volatile.Read(ref _passedCount) + _maxCount);
        Interlocked.Exchange(ref _acknowledging, 1);
        try
        {
            await SendUntilCancelledAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // No more acknowledgements until the final flush: the source is held by the watermark alone again.
            Interlocked.Exchange(ref _acknowledging, 0);
            WakeRoomWaiter();
        }
    }

    private async Task SendUntilCancelledAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_maxDelay, _timeProvider);
        Task? signal = null;
        Task<bool>? tick = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            signal ??= _signal.WaitAsync(cancellationToken);
            tick ??= timer.WaitForNextTickAsync(cancellationToken).AsTask();
            await Task.WhenAny(signal, tick).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            if (signal.IsCompleted)
            {
                signal = null;
                Volatile.Write(ref _signalPending, 0);
            }

            if (tick.IsCompleted)
            {
                tick = null;
            }

            await SendAsync(cancellationToken).ConfigureAwait(false);
        }

        // Stopped: the owner sends the final acknowledgement with FlushAsync.
    }

    /// <summary>Sends the watermark to the source now if it moved since the last acknowledgement (the final one on stop).</summary>
    /// <param name="cancellationToken">Passed to the source.</param>
    /// <returns>A task that completes when the source has recorded it.</returns>
    public ValueTask FlushAsync(CancellationToken cancellationToken) => SendAsync(cancellationToken);

    /// <summary>Releases the semaphores; call after <see cref="RunAsync"/> has ended and the final <see cref="FlushAsync"/>.</summary>
    public void Dispose()
    {
        _sendLock.Dispose();
        _signal.Dispose();
    }

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The count is read before the watermark: items passed in between are sent now and counted again, never left unsent.
            Volatile.Write(ref _signalAt, Volatile.Read(ref _passedCount) + _maxCount);

            // The head is read before the watermark (which is written before it): every item before that head is covered by the
            // watermark sent now, or by an earlier one.
            var head = Volatile.Read(ref _head);
            var watermark = Volatile.Read(ref _watermark);
            if (watermark > _lastAcknowledged)
            {
                await _acknowledge(watermark, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _lastAcknowledged, watermark);
            }

            if (head > Volatile.Read(ref _acknowledgedHead))
            {
                // A full fence before the waiter is looked at: a source that publishes its waiter after this sees the room.
                Interlocked.Exchange(ref _acknowledgedHead, head);
                WakeRoomWaiter();
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Called by the passing thread once the watermark has passed <paramref name="passedCount"/> items in all.</summary>
    private void OnPassed(long passedCount)
    {
        if (passedCount >= Volatile.Read(ref _signalAt))
        {
            RequestSend();
        }
    }

    /// <summary>Wakes <see cref="RunAsync"/> to acknowledge now; at most one wake is pending at a time.</summary>
    private void RequestSend()
    {
        if (Volatile.Read(ref _signalPending) == 0 && Interlocked.CompareExchange(ref _signalPending, 1, 0) == 0)
        {
            _signal.Release();
        }
    }
}
