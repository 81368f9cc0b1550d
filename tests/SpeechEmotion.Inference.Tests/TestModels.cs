using SpeechEmotion.Audio;
using SpeechEmotion.Audio.Tests;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Inference.Tests;

/// <summary>Small models and recordings made here: a seeded frames model saved as ser train saves one, and WAV files
/// whose pitch, loudness, length and sample rate differ, so that every file gets probabilities of its own.</summary>
internal static class TestModels
{
    public static readonly string[] Labels = ["angry", "calm", "sad"];

    /// <summary>A frames model (13 MFCCs with deltas, and prosody when asked, as the default recipe has; BiLSTM 16, dense 8)
    /// with seeded weights, global normalisation with the given statistics scale, and the training speeds it records.</summary>
    public static ModelBundle Frames(ulong seed, NormalizationMode normalization = NormalizationMode.Global, IReadOnlyList<double>? speeds = null,
        bool prosody = false)
    {
        var frontEnd = new FrontEndSettings(coefficients: 13, window: WindowMode.Trim, deltas: true, prosody: prosody);
        var config = new ClassifierConfig(frontEnd.FeatureSize, 16, 1, true, PoolingKind.Mean, [8], Labels.Length, 0.2f);
        var recipe = new Recipe(RecipeKind.Frames, frontEnd, normalization, config) { SpeedFactors = speeds ?? [] };
        var model = new SequenceClassifier(config);
        var rng = new Rng(seed);
        model.Initialize(rng);
        // Large enough weights that the probabilities move well away from uniform.
        foreach (ref float w in model.Parameters.Values.AsSpan()) w *= 3f;
        var mean = new float[frontEnd.FeatureSize];
        var std = new float[frontEnd.FeatureSize];
        for (int c = 0; c < mean.Length; c++) { mean[c] = (float)(rng.NextGaussian() * 5); std[c] = 10f + c; }
        return new ModelBundle(model, Labels, recipe, new FeatureStats(mean, std), new SplitInfo(Protocol.Random, seed, null));
    }

    public static string Save(ModelBundle bundle, string folder, string name)
    {
        string path = Path.Combine(folder, name);
        bundle.Save(path);
        return path;
    }

    /// <summary>A voiced-sounding clip: a harmonic tone with a pitch glide and a little noise, between silences.</summary>
    public static float[] Voice(int index, int rate)
    {
        var rng = new Rng((ulong)(100 + index));
        double seconds = 0.6 + 0.25 * (index % 5), f0 = 110 + 37 * index, amplitude = 0.15 + 0.1 * (index % 3);
        int n = (int)(seconds * rate), pad = rate / 10;
        var samples = new float[n + 2 * pad];
        double phase = 0;
        for (int i = 0; i < n; i++)
        {
            double f = f0 * (1 + 0.2 * Math.Sin(2 * Math.PI * i / n * (1 + index % 2)));
            phase += 2 * Math.PI * f / rate;
            double envelope = Math.Sin(Math.PI * i / n);
            samples[pad + i] = (float)(amplitude * envelope * (Math.Sin(phase) + 0.5 * Math.Sin(2 * phase) + 0.25 * Math.Sin(3 * phase)) + 0.003 * rng.NextGaussian());
        }
        return samples;
    }

    /// <summary>Recordings 0 … count − 1 as 16-bit WAV files at rates that vary (16, 22.05 and 44.1 kHz).</summary>
    public static List<string> Wavs(string folder, int count)
    {
        int[] rates = [16000, 22050, 44100];
        var paths = new List<string>();
        for (int i = 0; i < count; i++)
        {
            int rate = rates[i % rates.Length];
            string path = Path.Combine(folder, $"voice{i}.wav");
            File.WriteAllBytes(path, TestAudio.Wav([Voice(i, rate)], rate));
            paths.Add(path);
        }
        return paths;
    }
}

/// <summary>A folder under the temp directory, removed when disposed.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ser-inference-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
