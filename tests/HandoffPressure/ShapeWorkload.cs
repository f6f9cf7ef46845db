using System.Diagnostics;
using System.Threading.Channels;

namespace Pipeline.Handoffs.Shapes;

/// <summary>How the consumers of a shape run read the handoff.</summary>
public enum ReadPattern
{
    /// <summary><c>while (await WaitToReadAsync()) while (TryRead(out x)) ...</c>, as the engine reads.</summary>
    WaitToReadThenTryRead,

    /// <summary><c>await ReadAsync()</c> until the handoff is completed and drained.</summary>
    ReadAsync,
}

/// <summary>
/// Producers writing distinct integers into one handoff with <c>WriteAsync</c> while consumers read them, then a check
/// that every item arrived exactly once. Shared by the shape tests and the thread-pool pressure process.
/// </summary>
public static class ShapeWorkload
{
    /// <summary>Moves <paramref name="producers"/> × <paramref name="itemsPerProducer"/> items through <paramref name="channel"/>.</summary>
    /// <returns>The time from the first write to the last read.</returns>
    /// <exception cref="TimeoutException">Thrown when the run did not finish within <paramref name="deadline"/> (a livelock or a deadlock); the workers are cancelled.</exception>
    /// <exception cref="InvalidOperationException">Thrown when an item was lost or delivered more than once.</exception>
    public static async Task<TimeSpan> RunAsync(
        Channel<int> channel, int producers, int consumers, int itemsPerProducer, ReadPattern pattern, TimeSpan deadline)
    {
        int total = producers * itemsPerProducer;
        int[] seen = new int[total];
        using var cancellation = new CancellationTokenSource(deadline);
        CancellationToken token = cancellation.Token;
        Stopwatch elapsed = Stopwatch.StartNew();
        Task[] producing = new Task[producers];
        for (int p = 0; p < producers; p++)
        {
            int first = p * itemsPerProducer;
            producing[p] = Task.Run(async () =>
            {
                for (int i = 0; i < itemsPerProducer; i++)
                {
                    await channel.Writer.WriteAsync(first + i, token).ConfigureAwait(false);
                }
            });
        }

        Task[] consuming = new Task[consumers];
        for (int c = 0; c < consumers; c++)
        {
            consuming[c] = Task.Run(() => ConsumeAsync(channel.Reader, pattern, seen, token));
        }

        try
        {
            await Task.WhenAll(producing).ConfigureAwait(false);
            channel.Writer.Complete();
            await Task.WhenAll(consuming).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            channel.Writer.TryComplete();
            throw new TimeoutException(
                $"{producers}x{consumers} at capacity {Capacity(channel)} ({pattern}) did not finish within {deadline.TotalMilliseconds:F0} ms.");
        }

        elapsed.Stop();
        for (int item = 0; item < total; item++)
        {
            if (seen[item] != 1)
            {
                throw new InvalidOperationException(
                    $"{producers}x{consumers} at capacity {Capacity(channel)} ({pattern}): item {item} was delivered {seen[item]} times.");
            }
        }

        return elapsed.Elapsed;
    }

    private static async Task ConsumeAsync(ChannelReader<int> reader, ReadPattern pattern, int[] seen, CancellationToken token)
    {
        if (pattern == ReadPattern.WaitToReadThenTryRead)
        {
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (reader.TryRead(out int item))
                {
                    Interlocked.Increment(ref seen[item]);
                }
            }

            return;
        }

        while (true)
        {
            int item;
            try
            {
                item = await reader.ReadAsync(token).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return;
            }

            Interlocked.Increment(ref seen[item]);
        }
    }

    private static int Capacity(Channel<int> channel) => channel is IHandoff handoff ? handoff.Capacity : -1;
}
