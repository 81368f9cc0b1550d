namespace SpeechEmotion.Core.Tensors;

/// <summary>A unit of parallel work: <see cref="Execute"/> is called once for every index in [0, count).</summary>
internal interface IParallelWork
{
    void Execute(int index);
}

/// <summary>
/// A fixed set of worker threads that run one <see cref="IParallelWork"/> at a time. Unlike Parallel.For it
/// allocates nothing per call (the work object is the caller's, reused), which keeps the training step
/// allocation-free. Indices are claimed dynamically, so callers must make each index's result independent of
/// which thread runs it: then results are bit-identical for any thread count.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// How long a worker that has finished its part spins for the next run before it sleeps: 200 µs. An LSTM's time
    /// loop hands out one run per step, microseconds apart, and a worker woken from sleep (a futex wake, then the
    /// scheduler) arrives tens of microseconds late each time; a worker idle for longer than this sleeps and costs
    /// nothing. OpenMP runtimes do the same (KMP_BLOCKTIME, whose default is 200 ms).
    /// </summary>
    public static readonly TimeSpan SpinBeforeSleep = TimeSpan.FromMicroseconds(200);

    /// <summary>Pause rounds the caller spends waiting for busy workers before it starts yielding (about 50–100 µs).</summary>
    private const int CallerPauses = 1 << 12;

    /// <summary>Ints per worker slot in <see cref="_tickets"/>: one cache line each, so workers' polls do not share one.</summary>
    private const int SlotStride = 16;

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim[] _wake;
    private readonly object _runLock = new();
    private readonly long _spinTicks = (long)(SpinBeforeSleep.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
    // Per worker w, at [w·SlotStride]: the number of the last run handed to it (it polls this), and at
    // [w·SlotStride + 1]: 1 while it is asleep (or about to be) on _wake[w]. Whoever swaps that flag back to 0 owns
    // the wake-up, so every Release has its Wait.
    private readonly int[] _tickets;
    private int _runNumber;
    private IParallelWork? _work;
    private int _count;
    private int _next;
    private int _busyWorkers;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <param name="threads">Total threads, the caller's included; 1 runs everything on the caller.</param>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new OptionsException($"threads must be at least 1, got {threads}.");
        Threads = threads;
        _workers = new Thread[threads - 1];
        _wake = new SemaphoreSlim[_workers.Length];
        _tickets = new int[(_workers.Length + 1) * SlotStride];
        for (int w = 0; w < _workers.Length; w++)
        {
            _wake[w] = new SemaphoreSlim(0);
            int index = w;
            _workers[w] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"SpeechEmotion worker {w + 1}" };
            _workers[w].Start();
        }
    }

    /// <summary>Reused by <see cref="Gemm"/> so a parallel multiply allocates nothing.</summary>
    private readonly Gemm.PanelJobBox _gemmBox = new();

    private long _workerAllocatedBytes;

    /// <summary>
    /// Managed bytes the worker threads allocated while running work (the caller's thread not included):
    /// with <see cref="GC.GetAllocatedBytesForCurrentThread"/> on the caller, an exact allocation count that
    /// other threads of the process cannot disturb.
    /// </summary>
    public long WorkerAllocatedBytes => Interlocked.Read(ref _workerAllocatedBytes);

    /// <summary>How many runs were shared with the workers (diagnostics and tests).</summary>
    public long ParallelRuns { get; private set; }

    /// <summary>Threads that share the work, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>One pool per process by default, sized to the machine's cores.</summary>
    public static WorkerPool Default { get; } = new(Environment.ProcessorCount);

    /// <summary>Runs a GEMM through the pool's reusable box; the box is filled under the lock, so concurrent
    /// callers cannot overwrite each other's job.</summary>
    internal void RunGemm(in Gemm.PanelJob job)
    {
        lock (_runLock)
        {
            _gemmBox.Job = job;
            RunLocked(_gemmBox, job.WorkItems);
        }
    }

    /// <summary>Runs <paramref name="work"/> for every index in [0, count) on the caller and the workers, one run at a time.</summary>
    internal void Run(IParallelWork work, int count)
    {
        lock (_runLock) RunLocked(work, count);
    }

    /// <summary>Runs work for every index in [0, count) on the caller and the workers; returns when all are done.</summary>
    private void RunLocked(IParallelWork work, int count)
    {
        // Its workers have exited: waiting for them would spin for ever.
        ObjectDisposedException.ThrowIf(_disposed, this);
        _work = work;
        _count = count;
        ParallelRuns++;
        _failure = null;
        Volatile.Write(ref _next, 0);
        int helpers = Math.Min(_workers.Length, count - 1);
        Volatile.Write(ref _busyWorkers, helpers);
        int run = ++_runNumber;
        for (int w = 0; w < helpers; w++)
        {
            // A worker takes part in exactly the runs handed to it, so it never decrements another run's count.
            Interlocked.Exchange(ref _tickets[w * SlotStride], run);
            if (Interlocked.Exchange(ref _tickets[w * SlotStride + 1], 0) == 1) _wake[w].Release();
        }
        Drain();
        // The workers are mid-item: a pause loop first (SpinWait.SpinOnce yields to the kernel after a few rounds, a
        // system call per LSTM step: 4 % of a batch-1 forward), then yields, in case a worker was preempted.
        var spin = new SpinWait();
        for (int poll = 0; Volatile.Read(ref _busyWorkers) != 0; poll++)
            if (poll < CallerPauses) Thread.SpinWait(1); else spin.SpinOnce(sleep1Threshold: -1);
        _work = null;
        if (_failure is not null) throw new AggregateException("A parallel work item failed.", _failure);
    }

    private void Drain()
    {
        var work = _work!;
        int index;
        while ((index = Interlocked.Increment(ref _next) - 1) < _count)
        {
            try { work.Execute(index); }
            catch (Exception e) { _failure ??= e; }
        }
    }

    private void WorkerLoop(int w)
    {
        Gemm.EnsureThreadBuffers();
        int seen = 0;
        while (true)
        {
            seen = WaitForRun(w, seen);
            if (_disposed) return;
            long before = GC.GetAllocatedBytesForCurrentThread();
            Drain();
            Interlocked.Add(ref _workerAllocatedBytes, GC.GetAllocatedBytesForCurrentThread() - before);
            Interlocked.Decrement(ref _busyWorkers);
        }
    }

    /// <summary>Spins up to <see cref="SpinBeforeSleep"/> for a run other than <paramref name="seen"/>, then sleeps
    /// until the caller wakes it; returns the run's number.</summary>
    private int WaitForRun(int w, int seen)
    {
        ref int ticket = ref _tickets[w * SlotStride];
        ref int asleep = ref _tickets[w * SlotStride + 1];
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int poll = 1; ; poll++)
        {
            int run = Volatile.Read(ref ticket);
            if (run != seen || _disposed) return run;
            // The clock is read every 64th poll only: reading it each time was a tenth of a waiting worker's samples.
            if (poll % 64 != 0 || System.Diagnostics.Stopwatch.GetTimestamp() - start < _spinTicks) { Thread.SpinWait(1); continue; }
            Interlocked.Exchange(ref asleep, 1);
            // A run handed out between the poll and the flag: take the flag back, unless the caller already did (then
            // its Release is on the way, and this Wait consumes it).
            if (Volatile.Read(ref ticket) != seen || _disposed)
            {
                if (Interlocked.Exchange(ref asleep, 0) == 0) _wake[w].Wait();
                continue;
            }
            _wake[w].Wait();
            start = System.Diagnostics.Stopwatch.GetTimestamp();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int w = 0; w < _workers.Length; w++)
            if (Interlocked.Exchange(ref _tickets[w * SlotStride + 1], 0) == 1) _wake[w].Release();
    }
}
