using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Tensors;

/// <summary>The pool's workers spin for the next run, then sleep (<see cref="WorkerPool.SpinBeforeSleep"/>): every
/// index runs exactly once whether a run comes microseconds or milliseconds after the last, and a pool whose workers
/// sleep still disposes at once.</summary>
public class WorkerPoolTests
{
    private sealed class Counting(int size) : IParallelWork
    {
        public readonly int[] Hits = new int[size];
        public readonly HashSet<int> Threads = new();
        public bool HandOffTimedOut;
        public void Execute(int index)
        {
            Interlocked.Increment(ref Hits[index]);
            lock (Threads) Threads.Add(Environment.CurrentManagedThreadId);
            // Index 0 waits until index 1 has started: only another thread can have taken it, so every run of two or more
            // items is shared with a worker, woken from its spin or from its sleep, however busy the machine is.
            if (index == 0 && size > 1)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (Volatile.Read(ref Hits[1]) == 0)
                    if (clock.Elapsed > TimeSpan.FromSeconds(10)) { HandOffTimedOut = true; return; }
                    else Thread.SpinWait(20);
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryIndexRunsOnceWhetherTheWorkersSpinOrSleep(int threads)
    {
        using var pool = new WorkerPool(threads);
        var gaps = new[] { 0, 0, 1, 0, 3, 0, 0, 2 }; // milliseconds between runs: 0 keeps the workers spinning, ≥ 1 lets them sleep
        var seenThreads = new HashSet<int>();
        for (int run = 0; run < 400; run++)
        {
            int count = 1 + run % 9;
            var work = new Counting(count);
            pool.Run(work, count);
            Assert.False(work.HandOffTimedOut, $"run {run}: no worker took index 1 within 10 s");
            Assert.All(work.Hits, hits => Assert.Equal(1, hits));
            seenThreads.UnionWith(work.Threads);
            if (gaps[run % gaps.Length] > 0) Thread.Sleep(gaps[run % gaps.Length]);
        }
        Assert.True(seenThreads.Count > 1, "no run was shared with a worker");
        Assert.Equal(400, pool.ParallelRuns);
    }

    [Fact]
    public void APoolWhoseWorkersSleepDisposesAndRefusesWork()
    {
        var pool = new WorkerPool(3);
        pool.Run(new Counting(4), 4);
        Thread.Sleep(20); // far past SpinBeforeSleep: every worker is asleep
        Assert.True(WorkerPool.SpinBeforeSleep < TimeSpan.FromMilliseconds(20));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new Counting(2), 2));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
    }
}
