using System.Diagnostics;

namespace Pipeline.Primitives.Tests;

public partial class ConditionTests
{
    private static Waiter StartWaiting(Condition condition, Action wait) =>
        StartWaiting(condition, () =>
        {
            wait();
            return true;
        });

    private static void CheckNotify(Condition condition)
    {
        var phase = 0;
        var firstWaits = 0;
        var secondWaits = 0;
        var firstResults = new List<(int Id, bool Notified, int Phase)>();
        var secondResults = new List<(int Id, bool Notified, int Phase)>();
        var waiters = new List<Task>();

        int Locked(Func<int> read)
        {
            condition.Acquire();
            try
            {
                return read();
            }
            finally
            {
                condition.Release();
            }
        }

        for (var index = 0; index < 5; index++)
        {
            var id = index;
            waiters.Add(Concurrency.Run(() =>
            {
                condition.Acquire();
                firstWaits++;
                var notified = condition.Wait(TimeSpan.FromSeconds(20));
                firstResults.Add((id, notified, phase));
                secondWaits++;
                notified = condition.Wait(TimeSpan.FromSeconds(20));
                secondResults.Add((id, notified, phase));
                condition.Release();
            }));

            // Started one at a time, so the order of the wait queue is the order of the ids.
            Concurrency.WaitUntil(() => Locked(() => firstWaits) == id + 1, "the waiter to wait");
        }

        condition.Acquire();
        condition.Notify(3);
        phase = 1;
        condition.Release();

        Concurrency.WaitUntil(() => Locked(() => secondWaits) == 3, "three waiters to wait again");
        condition.Acquire();
        Assert.Equal([(0, true, 1), (1, true, 1), (2, true, 1)], firstResults.OrderBy(result => result.Id));
        Assert.Empty(secondResults);
        condition.Release();
        Assert.All(waiters, waiter => Assert.False(waiter.IsCompleted));

        condition.Acquire();
        condition.Notify(5);
        phase = 2;
        condition.Release();

        Concurrency.WaitUntil(() => Locked(() => secondWaits) == 5 && Locked(() => secondResults.Count) == 3, "all waiters to be woken once more");
        condition.Acquire();
        Assert.Equal([(3, true, 2), (4, true, 2)], firstResults.Skip(3).OrderBy(result => result.Id));
        Assert.Equal([(0, true, 2), (1, true, 2), (2, true, 2)], secondResults.OrderBy(result => result.Id));
        condition.NotifyAll();
        phase = 3;
        condition.Release();

        Concurrency.AssertCompletes(Task.WhenAll(waiters));
        Assert.Equal([(3, true, 3), (4, true, 3)], secondResults.Skip(3).OrderBy(result => result.Id));
    }

    /// <summary>A condition under test and a way to ask whether its lock is held by the waiter.</summary>
    private sealed class Subject
    {
        private readonly Func<bool> _isHeldOnThisThread;

        private Subject(Condition condition, Func<bool> isHeldOnThisThread, Func<bool> isHeld)
        {
            Condition = condition;
            _isHeldOnThisThread = isHeldOnThisThread;
            IsHeldByWaiter = isHeld;
        }

        public Condition Condition { get; }

        /// <summary>Whether the lock is held (by the caller, for a reentrant lock).</summary>
        public Func<bool> IsHeldByWaiter { get; }

        public static Subject Create(string kind)
        {
            switch (kind)
            {
                case "exclusive":
                    var exclusiveLock = new ExclusiveLock();
                    return new Subject(new Condition(exclusiveLock), () => exclusiveLock.IsLocked, () => exclusiveLock.IsLocked);
                case "reentrant":
                    var reentrantLock = new ReentrantLock();
                    return new Subject(new Condition(reentrantLock), () => reentrantLock.IsHeldByCurrentThread, () => reentrantLock.IsHeldByCurrentThread);
                default:
                    var condition = new Condition();

                    // The default lock exposes no state: it is held when another thread cannot take it.
                    bool HeldElsewhere() => !Concurrency.AssertCompletes(Concurrency.Run(condition.TryAcquire));
                    return new Subject(condition, HeldElsewhere, HeldElsewhere);
            }
        }

        /// <summary>Same as <see cref="IsHeldByWaiter"/>, usable inside the condition's own predicate.</summary>
        public bool IsHeldByWaiterOnThisThread() => _isHeldOnThisThread();
    }
}
