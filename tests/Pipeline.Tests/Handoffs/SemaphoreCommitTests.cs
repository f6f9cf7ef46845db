using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// The <c>Semaphore</c> kind puts a written item in the ring under the ring's lock and releases its filled slot just after: in that
/// moment the item must not be seen (<c>Count</c>, <c>TryPeek</c>) by a reader that cannot take it (<c>TryRead</c>).
/// </summary>
[Collection(nameof(HandoffConformanceCollection))]
public sealed class SemaphoreCommitTests : IDisposable
{
    public void Dispose() => HandoffCompletion.CommitObserver = null;

    [Theory(Timeout = 30_000)]
    [InlineData(BoundedChannelFullMode.Wait)]
    [InlineData(BoundedChannelFullMode.DropOldest)]
    [InlineData(BoundedChannelFullMode.DropWrite)]
    public async Task Semaphore_ItemInTheRingBeforeItsSlotIsReleased_IsNeitherCountedNorPeekedUntilItCanBeRead(BoundedChannelFullMode mode)
    {
        await Task.Run(() =>
        {
            var channel = (SemaphoreChannel<int>)Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = 4, FullMode = mode });
            (int Count, bool Peeked, bool Read)? during = null;
            HandoffCompletion.CommitObserver = state =>
            {
                if (ReferenceEquals(state, channel) && during is null)
                {
                    during = (channel.Reader.Count, channel.Reader.TryPeek(out _), channel.Reader.TryRead(out _));
                }
            };

            Assert.True(channel.Writer.TryWrite(7));
            HandoffCompletion.CommitObserver = null;

            Assert.Equal((0, false, false), during);
            Assert.Equal(1, channel.Reader.Count);
            Assert.True(channel.Reader.TryPeek(out var peeked));
            Assert.True(channel.Reader.TryRead(out var read));
            Assert.Equal((7, 7), (peeked, read));
            Assert.Equal(0, channel.Reader.Count);
        }).WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(BoundedChannelFullMode.Wait)]
    [InlineData(BoundedChannelFullMode.DropOldest)]
    [InlineData(BoundedChannelFullMode.DropWrite)]
    public async Task Semaphore_TwoWritersOneReader_CountAboveZeroMeansTheReaderCanTakeAnItem(BoundedChannelFullMode mode)
    {
        // The only reader: whenever it sees an item counted, TryRead must take one, whatever the writers are doing meanwhile.
        // All three loop without awaiting, so each has a thread of its own: on pool threads they would hold the pool's
        // workers for the whole second, and a pool capped at a few workers would have none left for the test's timeouts.
        var channel = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = 1, FullMode = mode });
        int stopping = 0;
        long seen = 0, missed = 0;
        var writers = Enumerable.Range(0, 2).Select(_ => RunOnThread(() =>
        {
            while (Volatile.Read(ref stopping) == 0)
            {
                channel.Writer.TryWrite(1);
            }
        })).ToArray();
        var reader = RunOnThread(() =>
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while ((watch.Elapsed < TimeSpan.FromSeconds(1) || seen < 1_000) && watch.Elapsed < TimeSpan.FromSeconds(20))
            {
                if (channel.Reader.Count > 0)
                {
                    seen++;
                    if (!channel.Reader.TryRead(out _))
                    {
                        missed++;
                    }
                }
            }
        });

        try
        {
            await reader.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            Volatile.Write(ref stopping, 1);
        }

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(seen >= 1_000, $"the reader saw only {seen} counted items in 20 s");
        Assert.True(missed == 0, $"{missed} of {seen} counted items could not be read");
    }

    /// <summary>Runs <paramref name="loop"/> on a dedicated background thread; the task ends (or faults) with it.</summary>
    private static Task RunOnThread(Action loop)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                loop();
                done.SetResult();
            }
            catch (Exception error)
            {
                done.SetException(error);
            }
        })
        { IsBackground = true }.Start();
        return done.Task;
    }

    [Fact(Timeout = 30_000)]
    public async Task Semaphore_CompletedWithItems_CountsEveryItemLeft()
    {
        // Completion releases a reserve of filled slots: the count is then the ring's.
        var channel = Handoff.Create<int>(new HandoffOptions { Kind = HandoffKind.Semaphore, Capacity = 4 });
        Assert.True(channel.Writer.TryWrite(1));
        Assert.True(channel.Writer.TryWrite(2));
        Assert.True(channel.Writer.TryComplete());

        Assert.Equal(2, channel.Reader.Count);
        Assert.Equal(1, await channel.Reader.ReadAsync());
        Assert.Equal(1, channel.Reader.Count);
        Assert.True(channel.Reader.TryPeek(out var left));
        Assert.Equal(2, left);
    }
}
