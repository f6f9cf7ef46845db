using Pipeline.Primitives.Internal;

namespace Pipeline.Primitives.Tests;

public class WaitQueueTests
{
    [Fact]
    public void Enqueue_WokenCallersReturningOneAfterAnother_KeepTheirOrderOfFirstArrival()
    {
        var queue = new WaitQueue(owner: null);
        using (queue.Sync.EnterScope())
        {
            queue.Enqueue(isSync: true, atHead: false, queuedSince: 100);
            queue.Enqueue(isSync: true, atHead: false, queuedSince: 200);
            queue.Enqueue(isSync: true, atHead: false, queuedSince: 300);

            // The two oldest are woken, lose their race, and come back oldest first: the second must not jump ahead.
            var first = queue.Dequeue()!;
            var second = queue.Dequeue()!;
            Assert.Equal((100, 200), (first.QueuedSince, second.QueuedSince));
            queue.Enqueue(isSync: true, atHead: true, queuedSince: 100);
            queue.Enqueue(isSync: true, atHead: true, queuedSince: 200);
            queue.Enqueue(isSync: true, atHead: false, queuedSince: 400);

            var order = new List<long>();
            while (queue.Dequeue() is { } waiter)
            {
                order.Add(waiter.QueuedSince);
            }

            Assert.Equal(new long[] { 100, 200, 300, 400 }, order);
            Assert.Equal(0, queue.Count);
        }
    }

    [Fact]
    public void Enqueue_ReturningCallerYoungerThanEveryWaiter_GoesBehindThem()
    {
        var queue = new WaitQueue(owner: null);
        using (queue.Sync.EnterScope())
        {
            queue.Enqueue(isSync: false, atHead: false, queuedSince: 100);
            queue.Enqueue(isSync: false, atHead: true, queuedSince: 150);

            Assert.Equal(100, queue.Dequeue()!.QueuedSince);
            Assert.Equal(150, queue.Dequeue()!.QueuedSince);
            Assert.Null(queue.Dequeue());
        }
    }
}
