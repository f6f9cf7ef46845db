namespace Pipeline;

/// <summary>Coalesces acknowledgements by count and time, and sends them to the source one at a time.</summary>
internal sealed partial class AcknowledgementTracker
{
    /// <summary>Serializes sending: the periodic loop and the final flush never call the source concurrently.</summary>
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    /// <summary>Released when the watermark first moves after an acknowledgement, and when <c>_maxCount</c> is reached.</summary>
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    /// <summary>1 while a release of <see cref="_signal"/> is pending; keeps the semaphore's count at most 1.</summary>
    private int _signalPending;

    /// <summary>How many items the watermark passed since the last acknowledgement was sent.</summary>
    private long _unacknowledged;

    /// <summary>The last position sent to the source; <see cref="NoWatermark"/> before the first. Guarded by <see cref="_sendLock"/>.</summary>
    private long _lastAcknowledged = NoWatermark;

    /// <summary>Gets the last position sent to the source, or <see cref="NoWatermark"/>.</summary>
    public long LastAcknowledged => Volatile.Read(ref _lastAcknowledged);

    /// <summary>
    /// Sends coalesced acknowledgements until <paramref name="cancellationToken"/> is cancelled: once <c>maxCount</c> items were
    /// accounted for since the last one, or <c>maxDelay</c> after the watermark first moved, whichever comes first.
    /// </summary>
    /// <param name="cancellationToken">Ends the loop (normally, not with an exception); call <see cref="FlushAsync"/> after it for the final acknowledgement.</param>
    /// <returns>A task that completes when the loop ends, or faults with the source's exception.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await WaitForSignalAsync(cancellationToken).ConfigureAwait(false);
                if (Volatile.Read(ref _unacknowledged) == 0)
                {
                    continue;
                }

                var deadline = _timeProvider.GetTimestamp() + (long)(_maxDelay.TotalSeconds * _timeProvider.TimestampFrequency);
                while (Volatile.Read(ref _unacknowledged) < _maxCount)
                {
                    var remaining = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), deadline);
                    if (remaining <= TimeSpan.Zero || !await WaitForSignalAsync(remaining, cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }
                }

                await SendAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: the owner sends the final acknowledgement with FlushAsync.
        }
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
            // Reset before reading the watermark: an item passed in between is sent now and counted again, never left unsent.
            Interlocked.Exchange(ref _unacknowledged, 0);
            var watermark = Volatile.Read(ref _watermark);
            if (watermark > _lastAcknowledged)
            {
                await _acknowledge(watermark, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _lastAcknowledged, watermark);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Called by the advancing thread after the watermark passed <paramref name="passed"/> more items.</summary>
    private void OnAdvanced(long passed)
    {
        var unacknowledged = Interlocked.Add(ref _unacknowledged, passed);
        var before = unacknowledged - passed;
        if (before == 0 || (before < _maxCount && unacknowledged >= _maxCount))
        {
            Signal();
        }
    }

    private void Signal()
    {
        if (Interlocked.CompareExchange(ref _signalPending, 1, 0) == 0)
        {
            _signal.Release();
        }
    }

    private async Task WaitForSignalAsync(CancellationToken cancellationToken)
    {
        await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _signalPending, 0);
    }

    /// <summary>Waits for the signal or for <paramref name="timeout"/> on the tracker's clock; returns whether the signal came.</summary>
    private async Task<bool> WaitForSignalAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var signal = _signal.WaitAsync(linked.Token);
        var delay = Task.Delay(timeout, _timeProvider, linked.Token);
        var first = await Task.WhenAny(signal, delay).ConfigureAwait(false);
        await linked.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first == signal || signal.Status == TaskStatus.RanToCompletion)
        {
            Volatile.Write(ref _signalPending, 0);
            return true;
        }

        return false;
    }
}
