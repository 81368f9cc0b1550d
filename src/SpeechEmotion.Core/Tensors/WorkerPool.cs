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
    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _start;
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
        _start = new SemaphoreSlim(0);
        _workers = new Thread[threads - 1];
        for (int w = 0; w < _workers.Length; w++)
        {
            _workers[w] = new Thread(WorkerLoop) { IsBackground = true, Name = $"SpeechEmotion worker {w + 1}" };
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
        lock (_start)
        {
            _gemmBox.Job = job;
            RunLocked(_gemmBox, job.WorkItems);
        }
    }

    /// <summary>Runs <paramref name="work"/> for every index in [0, count) on the caller and the workers, one run at a time.</summary>
    internal void Run(IParallelWork work, int count)
    {
        lock (_start) RunLocked(work, count);
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
        _start.Release(helpers);
        Drain();
        var spin = new SpinWait();
        while (Volatile.Read(ref _busyWorkers) != 0) spin.SpinOnce(sleep1Threshold: -1);
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

    private void WorkerLoop()
    {
        Gemm.EnsureThreadBuffers();
        while (true)
        {
            _start.Wait();
            if (_disposed) return;
            long before = GC.GetAllocatedBytesForCurrentThread();
            Drain();
            Interlocked.Add(ref _workerAllocatedBytes, GC.GetAllocatedBytesForCurrentThread() - before);
            Interlocked.Decrement(ref _busyWorkers);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_workers.Length > 0) _start.Release(_workers.Length);
    }
}
