using System.Runtime.CompilerServices;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// The ring under both custom handoffs: first in, first out across many wraps at every small capacity, the newest item
/// replaced in place, and no item kept alive once it left the ring, with both layouts (padded: unused slots either side
/// of the slots; plain). A read and a write that disagree on where a slot is would show up here as a lost, repeated or
/// retained item; a slip applied the same way to every access would not.
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
        if (padded)
        {
            FillAndDrainManyTimes(new RingBuffer<string, PaddedRingIndices>(capacity), capacity);
        }
        else
        {
            FillAndDrainManyTimes(new RingBuffer<string, PlainRingIndices>(capacity), capacity);
        }
    }

    private static void FillAndDrainManyTimes<TIndices>(RingBuffer<string, TIndices> ring, int capacity)
        where TIndices : struct, IRingIndices
    {
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
        if (padded)
        {
            WrapAndReplaceNewest(new RingBuffer<int, PaddedRingIndices>(capacity), capacity);
        }
        else
        {
            WrapAndReplaceNewest(new RingBuffer<int, PlainRingIndices>(capacity), capacity);
        }
    }

    private static void WrapAndReplaceNewest<TIndices>(RingBuffer<int, TIndices> ring, int capacity)
        where TIndices : struct, IRingIndices
    {
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
        if (padded)
        {
            AssertKeepsNoItemAlive(new RingBuffer<object, PaddedRingIndices>(2));
        }
        else
        {
            AssertKeepsNoItemAlive(new RingBuffer<object, PlainRingIndices>(2));
        }
    }

    private static void AssertKeepsNoItemAlive<TIndices>(RingBuffer<object, TIndices> ring)
        where TIndices : struct, IRingIndices
    {
        WeakReference taken = FillAndDrain(ring);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(taken.IsAlive, "A dequeued item is still referenced by the ring.");
        Assert.Equal(0, ring.Count);
        GC.KeepAlive(ring);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference FillAndDrain<TIndices>(RingBuffer<object, TIndices> ring)
        where TIndices : struct, IRingIndices
    {
        var item = new object();
        ring.Enqueue(new object());
        ring.Enqueue(item);
        ring.Dequeue();
        ring.Dequeue();
        return new WeakReference(item);
    }
}
