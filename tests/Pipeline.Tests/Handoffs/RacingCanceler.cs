using System.Diagnostics;

namespace Pipeline.Tests.Handoffs;

/// <summary>
/// A dedicated thread that cancels a token the moment the test says so, to race a cancellation closely against the
/// test's next step without depending on the thread pool (which other tests may keep busy).
/// </summary>
internal sealed class RacingCanceler : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly Thread _thread;
    private readonly SemaphoreSlim _armed = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private CancellationTokenSource? _target;
    private volatile bool _spinning;
    private volatile bool _fire;
    private volatile bool _disposed;

    public RacingCanceler()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = nameof(RacingCanceler) };
        _thread.Start();
    }

    /// <summary>Makes the thread spin, ready to cancel <paramref name="source"/>; returns once it spins.</summary>
    public void Arm(CancellationTokenSource source)
    {
        _target = source;
        _fire = false;
        _spinning = false;
        _done.Reset();
        _armed.Release();
        var watch = Stopwatch.StartNew();
        while (!_spinning)
        {
            Assert.True(watch.Elapsed < Bound, "The canceling thread did not arm.");
            Thread.SpinWait(1);
        }
    }

    /// <summary>Lets the thread cancel, and returns after a random handful of spins so that either side may win.</summary>
    public void Fire()
    {
        _fire = true;
        Thread.SpinWait(Random.Shared.Next(0, 4));
    }

    /// <summary>Waits (bounded) until the cancellation has run.</summary>
    public void WaitCanceled() => Assert.True(_done.Wait(Bound), "The cancellation did not run.");

    public void Dispose()
    {
        _disposed = true;
        _armed.Release();
        if (_thread.Join(Bound))
        {
            _armed.Dispose();
            _done.Dispose();
        }
    }

    private void Run()
    {
        while (true)
        {
            _armed.Wait();
            if (_disposed)
            {
                return;
            }

            _spinning = true;
            var watch = Stopwatch.StartNew();
            while (!_fire && watch.Elapsed < Bound)
            {
                Thread.SpinWait(1);
            }

            _target!.Cancel();
            _done.Set();
        }
    }
}
