using System.Runtime.CompilerServices;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// The ring under both custom handoffs: first in, first out across many wraps at every small capacity, the newest item
/// replaced in place, and no item kept alive once it left the ring, padded (unused slots after the last) or not: an
/// index slip into the padding would show up here as a lost, repeated or retained item.
/// </summary>
public class RingBufferTests
{
    [Theory(Timeout = 30_000)]
    [InlineData(1, true)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(3, false)]
    [InlineData(64, true)]
    public async Task EnqueueDequeue_AcrossManyWraps_KeepsFifoOrderAndCount(int capacity, bool padded)
    {
        await Task.Yield();
        var ring = new RingBuffer<string>(capacity, padded);
        var expected = new Queue<string>();
        int next = 0;

        // Fill to a varying level each round, then drain part of it, so the head lands on every slot many times.
        for (int round = 0; round < 200; round++)
        {
            while (!ring.IsFull && ring.Count < 1 + (round % capacity))
            {
                string item = (next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
                ring.Enqueue(item);
                expected.Enqueue(item);
                Assert.Equal(expected.Count, ring.Count);
            }

            Assert.Equal(expected.Peek(), ring.PeekOldest());
            int take = 1 + (round % ring.Count);
            for (int i = 0; i < take; i++)
            {
                Assert.Equal(expected.Dequeue(), ring.Dequeue());
            }

            Assert.Equal(expected.Count, ring.Count);
        }

        Assert.Equal(capacity, ring.Capacity);
    }

    [Theory(Timeout = 30_000)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(3, false)]
    public async Task ReplaceNewest_AfterTheRingWrapped_ReplacesTheLastWrittenItem(int capacity, bool padded)
    {
        await Task.Yield();
        var ring = new RingBuffer<int>(capacity, padded);
        for (int i = 0; i < capacity + 1; i++)
        {
            if (ring.IsFull)
            {
                ring.Dequeue();
            }

            ring.Enqueue(i);
        }

        Assert.Equal(capacity, ring.ReplaceNewest(-1));
        var left = new List<int>();
        while (ring.Count > 0)
        {
            left.Add(ring.Dequeue());
        }

        Assert.Equal(-1, left[^1]);
        Assert.Equal(Enumerable.Range(1, capacity - 1), left.Take(capacity - 1));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Dequeue_OfAReference_KeepsNoItemAlive(bool padded)
    {
        await Task.Yield();
        var ring = new RingBuffer<object>(2, padded);
        WeakReference taken = FillAndDrain(ring);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(taken.IsAlive, "A dequeued item is still referenced by the ring.");
        Assert.Equal(0, ring.Count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference FillAndDrain(RingBuffer<object> ring)
    {
        var item = new object();
        ring.Enqueue(new object());
        ring.Enqueue(item);
        ring.Dequeue();
        ring.Dequeue();
        return new WeakReference(item);
    }
}
