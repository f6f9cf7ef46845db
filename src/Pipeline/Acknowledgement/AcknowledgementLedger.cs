using System.Collections.Concurrent;

namespace Pipeline;

/// <summary>
/// The acknowledgements of one run whose source acknowledges: what an envelope's <see cref="Envelope{T}.Acknowledgement"/> names,
/// and the coalescing loop that tells the source the watermark.
/// </summary>
/// <remarks>
/// <para>
/// An envelope's acknowledgement is 0 (none), a ticket of the <see cref="AcknowledgementTracker"/> (positive: one source item), or a
/// group (negative: the items of a batch). Every reference an envelope holds is released exactly once, where the item ends: handed
/// on (its output takes the reference over), sunk, or given up in <see cref="StageRunner"/>'s one accounting place.
/// </para>
/// <para>
/// Threading: <see cref="AddReferences"/>, <see cref="Release(long)"/> and <see cref="Group"/> from any thread; <see cref="Start"/> once,
/// then <see cref="CompleteAsync"/> once the run ended (or was taken over at its deadline) (the tracker stays usable: stage code that outlived a deadline may still release).
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "CompleteAsync, which every run ends with, disposes the token source; the tracker's semaphores need no disposal.")]
internal sealed class AcknowledgementLedger
{
    private readonly ConcurrentDictionary<long, GroupEntry> _groups = new();
    private readonly CancellationTokenSource _stop = new();
    private long _lastGroup;
    private Task _loop = Task.CompletedTask;
    private int _completed;

    public AcknowledgementLedger(AcknowledgementTracker tracker)
    {
        Tracker = tracker;
    }

    /// <summary>Gets the tracker of the source's items.</summary>
    public AcknowledgementTracker Tracker { get; }

    /// <summary>Starts the coalescing loop; <paramref name="onFault"/> sees the source's exception if acknowledging fails.</summary>
    public void Start(Action<Exception> onFault)
    {
        _loop = RunAsync(onFault);
    }

    /// <summary>Adds <paramref name="count"/> references to the item(s) <paramref name="acknowledgement"/> names (which still hold one).</summary>
    public void AddReferences(long acknowledgement, int count)
    {
        if (acknowledgement > 0)
        {
            Tracker.AddReferences(acknowledgement, count);
        }
        else if (acknowledgement < 0 && _groups.TryGetValue(acknowledgement, out var group))
        {
            Interlocked.Add(ref group.References, count);
        }
    }

    /// <summary>Releases one reference of what <paramref name="acknowledgement"/> names; 0 names nothing.</summary>
    public void Release(long acknowledgement)
    {
        if (acknowledgement > 0)
        {
            Tracker.Release(acknowledgement);
        }
        else if (acknowledgement < 0
            && _groups.TryGetValue(acknowledgement, out var group)
            && Interlocked.Decrement(ref group.References) == 0
            && _groups.TryRemove(acknowledgement, out _))
        {
            foreach (var member in group.Members)
            {
                Release(member);
            }
        }
    }

    /// <summary>Releases one reference of each of <paramref name="acknowledgements"/>: items together (the watermark moves once), groups one by one.</summary>
    public void Release(ReadOnlySpan<long> acknowledgements)
    {
        Span<long> items = stackalloc long[acknowledgements.Length];
        var count = 0;
        foreach (var acknowledgement in acknowledgements)
        {
            if (acknowledgement > 0)
            {
                items[count++] = acknowledgement;
            }
            else
            {
                Release(acknowledgement);
            }
        }

        if (count > 0)
        {
            Tracker.Release(items[..count]);
        }
    }

    /// <summary>Returns one acknowledgement holding the references of <paramref name="members"/> (taken over), or 0 if they hold none.</summary>
    public long Group(List<long> members)
    {
        var held = members.FindAll(static member => member != 0);
        if (held.Count == 0)
        {
            return 0;
        }

        var id = -Interlocked.Increment(ref _lastGroup);
        _groups[id] = new GroupEntry([.. held]);
        return id;
    }

    /// <summary>Ends the coalescing loop and sends the final acknowledgement for what was accounted for; once.</summary>
    /// <param name="cancellationToken">Passed to the source's final acknowledgement.</param>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            await Tracker.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _stop.Dispose();
        }
    }

    private async Task RunAsync(Action<Exception> onFault)
    {
        try
        {
            await Tracker.RunAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped while acknowledging: the final flush sends the watermark.
        }
        catch (Exception exception)
        {
            onFault(exception);
        }
    }

    private sealed class GroupEntry(long[] members)
    {
        /// <summary>References of the group as a whole; the members are released when the last is.</summary>
        public int References = 1;

        public long[] Members { get; } = members;
    }
}
