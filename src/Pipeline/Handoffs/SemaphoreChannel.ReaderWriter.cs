using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace Pipeline.Handoffs;

public sealed partial class SemaphoreChannel<T>
{
    /// <summary>The reading half; every member forwards to the handoff.</summary>
    [DebuggerDisplay("Count = {Count}")]
    private sealed class SemaphoreChannelReader(SemaphoreChannel<T> parent) : ChannelReader<T>
    {
        public override Task Completion => parent._completion.Task;

        public override bool CanCount => true;

        public override bool CanPeek => true;

        public override int Count => parent.VisibleCount;

        public override bool TryRead([MaybeNullWhen(false)] out T item) => parent.TryReadCore(out item);

        public override bool TryPeek([MaybeNullWhen(false)] out T item) => parent.TryPeekCore(out item);

        public override ValueTask<T> ReadAsync(CancellationToken cancellationToken = default) => parent.ReadAsyncCore(cancellationToken);

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
            parent.WaitToReadAsyncCore(cancellationToken);
    }

    /// <summary>The writing half; every member forwards to the handoff.</summary>
    private sealed class SemaphoreChannelWriter(SemaphoreChannel<T> parent) : ChannelWriter<T>
    {
        public override bool TryComplete(Exception? error = null) => parent.TryCompleteCore(error);

        public override bool TryWrite(T item) => parent.TryWriteCore(item);

        public override ValueTask WriteAsync(T item, CancellationToken cancellationToken = default) =>
            parent.WriteAsyncCore(item, cancellationToken);

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) =>
            parent.WaitToWriteAsyncCore(cancellationToken);
    }
}
