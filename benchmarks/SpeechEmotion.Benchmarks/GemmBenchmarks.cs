using BenchmarkDotNet.Attributes;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Benchmarks;

/// <summary>
/// The GEMMs of one FRAMES-L training step at their real sizes, plus 1024³. Baseline: the same kernel on one
/// thread, so each two-thread result is a ratio.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private WorkerPool _one = null!, _two = null!;
    private (bool TransA, int M, int N, int K) _size;

    [Params("input projection 12800x1024x120", "recurrent step 64x1024x256", "dW_hh 1024x256x12800 (A^T)", "square 1024")]
    public string Case { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _size = Case switch
        {
            "input projection 12800x1024x120" => (false, 12800, 1024, 120),
            "recurrent step 64x1024x256" => (false, 64, 1024, 256),
            "dW_hh 1024x256x12800 (A^T)" => (true, 1024, 256, 12800),
            _ => (false, 1024, 1024, 1024),
        };
        var rng = new Rng(1);
        _a = new float[_size.M * _size.K]; rng.FillUniform(_a, -1, 1);
        _b = new float[_size.K * _size.N]; rng.FillUniform(_b, -1, 1);
        _c = new float[_size.M * _size.N];
        _one = new WorkerPool(1);
        _two = new WorkerPool(2);
    }

    [GlobalCleanup]
    public void Cleanup() { _one.Dispose(); _two.Dispose(); }

    private void Run(WorkerPool pool)
    {
        var (ta, m, n, k) = _size;
        Gemm.Multiply(ta, false, m, n, k, _a, ta ? m : k, _b, n, _c, n, accumulate: false, pool);
    }

    [Benchmark(Baseline = true)]
    public void OneThread() => Run(_one);

    [Benchmark]
    public void TwoThreads() => Run(_two);
}

/// <summary>The vectorised GEMM against its scalar reference at the recurrent step's size.</summary>
[MemoryDiagnoser]
public class GemmReferenceBenchmarks
{
    private readonly float[] _a = new float[64 * 256], _b = new float[256 * 1024], _c = new float[64 * 1024];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(2);
        rng.FillUniform(_a, -1, 1);
        rng.FillUniform(_b, -1, 1);
    }

    [Benchmark(Baseline = true)]
    public void ScalarReference() => Gemm.MultiplyReference(false, false, 64, 1024, 256, _a, 256, _b, 1024, _c, 1024, accumulate: false);

    [Benchmark]
    public void Vectorised() => Gemm.Multiply(false, false, 64, 1024, 256, _a, 256, _b, 1024, _c, 1024, accumulate: false);
}
