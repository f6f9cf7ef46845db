using System.Collections.Concurrent;

namespace PrimitivesTour.Sections;

/// <summary>
/// One stop of the tour: it shows a primitive at work, prints what it saw, and checks it.
/// </summary>
internal abstract class Section
{
    /// <summary>Bounds every wait inside a section, so a broken primitive fails instead of hanging.</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Short identifier printed in the result line (<c>check {Id}: held</c>).</summary>
    public abstract string Id { get; }

    /// <summary>Heading printed before the section runs.</summary>
    public abstract string Title { get; }

    /// <summary>Runs the section, writing its findings to <paramref name="output"/>.</summary>
    /// <returns>What the section checked, and whether it held.</returns>
    public abstract Task<CheckResult> RunAsync(TextWriter output, CancellationToken cancellationToken);

    /// <summary>Throws <see cref="TimeoutException"/> when a bounded wait gave up.</summary>
    protected static void Expect(bool waited, string what)
    {
        if (!waited)
        {
            throw new TimeoutException($"timed out waiting for {what}");
        }
    }

    /// <summary>
    /// Background threads whose failures are collected and rethrown on <see cref="JoinAll"/>, so a
    /// failing or stuck worker fails its section instead of crashing or hanging the tour.
    /// </summary>
    protected sealed class ThreadGroup
    {
        private readonly List<Thread> _threads = [];
        private readonly ConcurrentQueue<Exception> _failures = new();

        public void Start(string name, Action body)
        {
            var thread = new Thread(() =>
            {
                try
                {
                    body();
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    _failures.Enqueue(exception);
                }
            })
            { IsBackground = true, Name = name };
            _threads.Add(thread);
            thread.Start();
        }

        public void JoinAll()
        {
            foreach (var thread in _threads)
            {
                Expect(thread.Join(WaitTimeout), $"thread '{thread.Name}' to finish");
            }

            if (!_failures.IsEmpty)
            {
                throw new AggregateException(_failures);
            }
        }
    }
}
