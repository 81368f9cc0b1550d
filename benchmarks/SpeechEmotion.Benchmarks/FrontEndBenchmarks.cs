using BenchmarkDotNet.Attributes;
using NWaves.FeatureExtractors.Options;
using NWaves.Windows;
using SpeechEmotion.Audio;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Benchmarks;

/// <summary>
/// Reading + features of one TESS-length clip (2 s at 24,414 Hz, 16-bit mono WAV in memory). Baseline: NWaves'
/// own MfccExtractor with the closest settings (uncentred frames, symmetric Hann) on the already-resampled
/// samples, so the ratio shows what librosa compatibility and resampling cost on top of it.
/// </summary>
[MemoryDiagnoser]
public class FrontEndBenchmarks
{
    private byte[] _wav = [];
    private float[] _resampled = [];
    private FrontEnd _frontEnd = null!;
    private SpeechEmotion.Audio.MfccExtractor _mfcc = null!;
    private NWaves.FeatureExtractors.MfccExtractor _nwaves = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(3);
        var samples = new float[2 * 24414];
        for (int i = 0; i < samples.Length; i++) samples[i] = (float)(0.3 * Math.Sin(2 * Math.PI * 220 * i / 24414.0) + 0.05 * rng.NextGaussian());
        _wav = SyntheticCorpus.Wav16(samples, 24414);
        _frontEnd = new FrontEnd(new FrontEndSettings(window: WindowMode.Whole, deltas: false));
        _resampled = Resampling.Resample(samples, 24414, 22050);
        _mfcc = new SpeechEmotion.Audio.MfccExtractor(new SpeechEmotion.Audio.MfccOptions());
        _nwaves = new NWaves.FeatureExtractors.MfccExtractor(NWavesOptions());
    }

    [Benchmark(Baseline = true)]
    public int NWavesMfccOnly() => _nwaves.ComputeFrom(_resampled).Count;

    [Benchmark]
    public int OurMfccOnly() { _mfcc.Compute(_resampled, out int frames); return frames; }

    [Benchmark]
    public int ReadResampleMfcc() => _frontEnd.Extract(AudioReader.Decode(_wav, "clip.wav"), "clip.wav").Frames;

    /// <summary>NWaves' options closest to librosa's defaults.</summary>
    private static NWaves.FeatureExtractors.Options.MfccOptions NWavesOptions() => new()
    {
            SamplingRate = 22050, FeatureCount = 40, FrameSize = 2048, HopSize = 512, FftSize = 2048, FilterBankSize = 128,
            Window = WindowType.Hann, NonLinearity = NonLinearityType.ToDecibel, SpectrumType = SpectrumType.Power,
            DctType = "2N", LogFloor = 1e-10f,
    };
}

/// <summary>
/// Whole-corpus extraction (no cache): the real TESS when data/tess holds it, otherwise 2,800 synthetic 2-s
/// files of the same format. Baseline: one thread; the ratio is what the second core adds.
/// </summary>
public class CorpusExtractionBenchmarks
{
    private IReadOnlyList<SpeechEmotion.Training.Corpus.Utterance> _utterances = [];
    private string? _temp;

    [GlobalSetup]
    public void Setup()
    {
        string root = SpeechEmotion.Training.DataLocation.Resolve();
        if (!Directory.Exists(root)) { _temp = SyntheticCorpus.Create(2800); root = _temp; }
        _utterances = SpeechEmotion.Training.Corpus.CorpusIndex.Load(root).Utterances;
    }

    [GlobalCleanup]
    public void Cleanup() { if (_temp is not null) Directory.Delete(_temp, recursive: true); }

    private int Run(int threads) => SpeechEmotion.Training.Features.FeatureExtraction
        .ExtractAll(_utterances, new FrontEndSettings(), cache: null, threads).Utterances.Count;

    [Benchmark(Baseline = true)]
    public int OneThread() => Run(1);

    [Benchmark]
    public int AllCores() => Run(0);
}
