using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Pipeline.Tests.Handoffs;

/// <summary>How completion ends the completion task and the calls that come after it, exactly as the BCL channel does.</summary>
public abstract partial class ChannelConformanceTests
{
    [Fact(Timeout = 60_000)]
    public async Task TryComplete_WithExceptionNobodyAwaits_RaisesNoUnobservedTaskException()
    {
        var error = new FormatException("completion nobody awaits");
        var unobserved = 0;
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs args)
        {
            if (args.Exception.InnerExceptions.Any(inner => ReferenceEquals(inner, error)))
            {
                Interlocked.Increment(ref unobserved);
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await CompleteAndDropAsync(error);
            for (var round = 0; round < 3; round++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }

        Assert.Equal(0, Volatile.Read(ref unobserved));
    }

    /// <summary>Completes drained handoffs with <paramref name="error"/> and lets them go, their completion tasks never awaited.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task CompleteAndDropAsync(Exception error)
    {
        for (var i = 0; i < 10; i++)
        {
            Channel<int> channel = CreateChannel();
            Assert.True(channel.Writer.TryComplete(error));
            Assert.True(channel.Reader.Completion.IsFaulted);
        }

        await Task.Yield();
    }

    [Fact(Timeout = 60_000)]
    public async Task TryComplete_WithOperationCanceledExceptionOfATokenNotCancelled_CompletionIsCanceledWithThatToken()
    {
        using var source = new CancellationTokenSource();
        Channel<int> channel = CreateChannel();

        channel.Writer.Complete(new OperationCanceledException(source.Token));

        OperationCanceledException thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Reader.Completion.WaitAsync(Bound));
        Assert.True(channel.Reader.Completion.IsCanceled);
        Assert.Equal(source.Token, thrown.CancellationToken);
    }

    [Fact]
    public void ReadAsync_DrainedAfterCompleteWithOperationCanceledException_ReturnsACanceledTask()
    {
        using var source = new CancellationTokenSource();
        source.Cancel();
        Channel<int> channel = CreateChannel();
        channel.Writer.Complete(new OperationCanceledException(source.Token));

        ValueTask<int> read = channel.Reader.ReadAsync();

        Assert.True(read.IsCanceled);
    }

    [Fact]
    public async Task WriteAsync_AfterCompleteWithOperationCanceledException_FaultsWithThatException()
    {
        Channel<int> channel = CreateChannel();
        var canceled = new OperationCanceledException();
        channel.Writer.Complete(canceled);

        ValueTask write = channel.Writer.WriteAsync(1);

        Assert.True(write.IsFaulted);
        Assert.Same(canceled, await Assert.ThrowsAsync<OperationCanceledException>(() => write.AsTask()));
    }
}
