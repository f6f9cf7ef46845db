namespace Pipeline;

/// <summary>
/// The item one worker holds while stage code runs on it, so that a shutdown deadline can take it over: the worker
/// <see cref="Begin"/>s before calling stage code and <see cref="TryEnd"/>s after; <see cref="TryClaim"/> (the engine, at the
/// deadline) takes the item if stage code still holds it. Exactly one of <see cref="TryEnd"/> and <see cref="TryClaim"/> wins, so
/// the item is accounted for once: by the worker, or as given up.
/// </summary>
/// <typeparam name="T">The type of the item.</typeparam>
internal sealed class InFlightSlot<T> : IInFlightSlot
{
    private const int Idle = 0;
    private const int Busy = 1;
    private const int Claimed = 2;

    /// <summary><see cref="Idle"/>, <see cref="Busy"/> (stage code holds <see cref="_item"/>) or <see cref="Claimed"/> (the engine took it).</summary>
    private int _state;

    private T _item = default!;

    /// <summary>The acknowledgement <see cref="_item"/> carries (0: none).</summary>
    private long _acknowledgement;

    /// <summary>Marks <paramref name="item"/>, carrying <paramref name="acknowledgement"/>, as held by stage code.</summary>
    public void Begin(T item, long acknowledgement)
    {
        _item = item;
        _acknowledgement = acknowledgement;
        Volatile.Write(ref _state, Busy);
    }

    /// <summary>Returns <see langword="true"/> if the worker still owns the item; <see langword="false"/> if it was claimed (give the result up).</summary>
    public bool TryEnd()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Busy) == Busy)
        {
            _item = default!;
            return true;
        }

        Volatile.Write(ref _state, Idle);
        return false;
    }

    /// <summary>Takes the item if stage code holds it.</summary>
    public bool TryClaim(out T item, out long acknowledgement)
    {
        if (Interlocked.CompareExchange(ref _state, Claimed, Busy) == Busy)
        {
            item = _item;
            acknowledgement = _acknowledgement;
            return true;
        }

        item = default!;
        acknowledgement = 0;
        return false;
    }

    /// <inheritdoc/>
    public ValueTask ClaimAsync(StageRunner stage, StageCounter counter) =>
        TryClaim(out var item, out var acknowledgement) ? stage.GiveUpAtDeadlineAsync(item, acknowledgement, counter) : default;
}

/// <summary>An <see cref="InFlightSlot{T}"/> seen without its item type.</summary>
internal interface IInFlightSlot
{
    /// <summary>Takes the item if stage code holds it and gives it up (reason <c>ShutdownTimeout</c>), counted on <paramref name="counter"/>.</summary>
    ValueTask ClaimAsync(StageRunner stage, StageCounter counter);
}
