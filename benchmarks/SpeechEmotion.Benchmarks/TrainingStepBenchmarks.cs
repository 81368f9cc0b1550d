using BenchmarkDotNet.Attributes;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Benchmarks;

/// <summary>
/// One training step (forward + backward + Adam) and one inference batch of the benchmark workload:
/// LSTM(I→H) → last hidden state → Dense 128 ReLU → Dense 64 ReLU → Dense 7, dropout off, one fixed random
/// batch, fixed seeds. Baseline: one thread; the ratio shows what the second core adds. Allocated bytes must
/// read 0 for the training step.
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private SequenceClassifier _model = null!;
    private WorkerPool _one = null!, _two = null!;
    private float[] _x = [], _probabilities = [];
    private int[] _lengths = [], _labels = [];
    private Rng _rng = null!;
    private int _t, _b;

    [ParamsSource(nameof(AllShapes))]
    public string Shape { get; set; } = "";

    public static IEnumerable<string> AllShapes => Shapes.All;

    [GlobalSetup]
    public void Setup()
    {
        var (t, b, i, h) = Shapes.Get(Shape);
        (_t, _b) = (t, b);
        _one = new WorkerPool(1);
        _two = new WorkerPool(2);
        _model = new SequenceClassifier(new ClassifierConfig(i, h, 1, false, PoolingKind.Last, [128, 64], 7, 0f), new AdamOptions(), _one);
        _rng = new Rng(42);
        _model.Initialize(_rng);
        _x = new float[t * b * i];
        _rng.FillUniform(_x, -1, 1);
        _lengths = Enumerable.Repeat(t, b).ToArray();
        _labels = Enumerable.Range(0, b).Select(k => k % 7).ToArray();
        _probabilities = new float[b * 7];
        _model.Reserve(t, b);
    }

    [GlobalCleanup]
    public void Cleanup() { _one.Dispose(); _two.Dispose(); }

    [Benchmark(Baseline = true)]
    public float TrainStepOneThread()
    {
        _model.Pool = _one;
        return _model.TrainStep(_x, _lengths, _labels, _t, _b, _rng);
    }

    [Benchmark]
    public float TrainStepTwoThreads()
    {
        _model.Pool = _two;
        return _model.TrainStep(_x, _lengths, _labels, _t, _b, _rng);
    }

    [Benchmark]
    public void InferenceTwoThreads()
    {
        _model.Pool = _two;
        _model.Predict(_x, _lengths, _t, _b, _probabilities);
    }
}
