// Stand-in for Pipeline.Primitives.Event (DESIGN §1) until the primitives land; same members, same semantics.
// Delete this file when merging the primitives.
namespace Pipeline.Primitives;

internal sealed class Event
{
    private volatile TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Event(bool initialState = false)
    {
        if (initialState)
        {
            Set();
        }
    }

    public bool IsSet => _signal.Task.IsCompleted;

    public void Set() => _signal.TrySetResult();

    public void Clear()
    {
        var current = _signal;
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _signal, new(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }
    }

    public ValueTask WaitAsync(CancellationToken cancellationToken = default) =>
        new(_signal.Task.WaitAsync(cancellationToken));
}
