using Pipeline.Primitives;

namespace PrimitivesTour.Sections;

/// <summary>
/// The classic producer/consumer: a bounded buffer guarded by one <see cref="ExclusiveLock"/>
/// with two <see cref="Condition"/>s on it, "not full" and "not empty". The producer is a thread
/// that blocks; the consumer is a task that awaits.
/// </summary>
internal sealed class ConditionSection : Section
{
    private const int Capacity = 4;
    private const int Items = 2_000;

    private readonly Queue<int> _buffer = new();
    private readonly List<int> _received = new(Items);
    private bool _producerDone;
    private int _largestBuffer;
    private int _producerFoundFull;

    public override string Id => "condition";

    public override string Title => "Condition: producer/consumer over a bounded buffer";

    public override async Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var bufferLock = new ExclusiveLock();
        var notFull = new Condition(bufferLock);
        var notEmpty = new Condition(bufferLock);

        var consumer = Task.Run(() => ConsumeAsync(notFull, notEmpty, cancellationToken), cancellationToken);
        var producer = new ThreadGroup();
        producer.Start("producer", () => Produce(notFull, notEmpty, cancellationToken));
        producer.JoinAll();
        await consumer.WaitAsync(WaitTimeout, cancellationToken);

        var inOrder = _received.SequenceEqual(Enumerable.Range(1, Items));
        output.WriteLine($"  produced {Items:N0} items through a buffer of {Capacity}; consumed {_received.Count:N0}, in order: {inOrder}");
        output.WriteLine($"  the producer found the buffer full {_producerFoundFull:N0} times and waited; largest buffer seen: {_largestBuffer}");
        return new CheckResult(
            inOrder && _largestBuffer <= Capacity && !bufferLock.IsLocked,
            $"all {Items:N0} items consumed once, in order, never more than {Capacity} buffered");
    }

    private void Produce(Condition notFull, Condition notEmpty, CancellationToken cancellationToken)
    {
        for (var item = 1; item <= Items; item++)
        {
            using (notFull.Lock(cancellationToken))
            {
                if (_buffer.Count == Capacity)
                {
                    _producerFoundFull++;
                }

                Expect(notFull.WaitFor(() => _buffer.Count < Capacity, WaitTimeout, cancellationToken), "room in the buffer");
                _buffer.Enqueue(item);
                _largestBuffer = Math.Max(_largestBuffer, _buffer.Count);
                notEmpty.Notify();
            }
        }

        using (notFull.Lock(cancellationToken))
        {
            _producerDone = true;
            notEmpty.NotifyAll();
        }
    }

    private async Task ConsumeAsync(Condition notFull, Condition notEmpty, CancellationToken cancellationToken)
    {
        while (true)
        {
            using (await notEmpty.LockAsync(cancellationToken))
            {
                Expect(
                    await notEmpty.WaitForAsync(() => _buffer.Count > 0 || _producerDone, WaitTimeout, cancellationToken),
                    "an item");
                if (_buffer.Count == 0)
                {
                    return;
                }

                _received.Add(_buffer.Dequeue());
                notFull.Notify();
            }
        }
    }
}
