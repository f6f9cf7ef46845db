using System.Threading.Channels;
using Pipeline.Handoffs;

namespace Pipeline.Tests.Handoffs;

public abstract partial class ChannelConformanceTests
{
    // ---- load ----

    [Fact(Timeout = 60_000)]
    public async Task WriteAsyncReadAsync_MillionItemsFourByFour_ExactlyOnceInProducerOrder()
    {
        const int Producers = 4;
        const int Consumers = 4;
        const int PerProducer = 250_000;
        Channel<long> channel = CreateChannel<long>(1024);
        Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (long seq = 0; seq < PerProducer; seq++)
            {
                await channel.Writer.WriteAsync(((long)p << 32) | seq);
            }
        })).ToArray();
        var seen = new int[Producers * PerProducer];
        // Half the consumers drain with WaitToReadAsync/TryRead, half with ReadAsync, so both wait paths are loaded.
        Task<bool>[] consumers = Enumerable.Range(0, Consumers).Select(c => Task.Run(async () =>
        {
            var last = new long[Producers];
            Array.Fill(last, -1);
            bool ordered = true;
            void Record(long item)
            {
                int producer = (int)(item >> 32);
                long seq = item & 0xFFFF_FFFF;
                ordered &= seq > last[producer];
                last[producer] = seq;
                Interlocked.Increment(ref seen[(producer * PerProducer) + seq]);
            }

            if (c % 2 == 0)
            {
                while (await channel.Reader.WaitToReadAsync())
                {
                    while (channel.Reader.TryRead(out long item))
                    {
                        Record(item);
                    }
                }
            }
            else
            {
                try
                {
                    while (true)
                    {
                        Record(await channel.Reader.ReadAsync());
                    }
                }
                catch (ChannelClosedException)
                {
                }
            }

            return ordered;
        })).ToArray();

        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(30));
        channel.Writer.Complete();
        bool[] ordered = await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(ordered, Assert.True);
        Assert.Equal(0, seen.Count(count => count != 1));
        await channel.Reader.Completion.WaitAsync(Bound);
    }
}
