using SpeechEmotion.Audio.Tests;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Cli.Tests;

/// <summary>
/// A tiny TESS-layout corpus whose seven classes differ audibly: each emotion has its own pitch, pitch contour
/// and loudness; the second speaker's voice is a fifth higher. Seeded, so every run writes the same bytes.
/// </summary>
internal static class SyntheticEmotions
{
    public static readonly string[] Emotions = ["angry", "disgust", "fear", "happy", "neutral", "ps", "sad"];
    private static readonly string[] Folders = ["angry", "disgust", "fear", "happy", "neutral", "pleasant_surprise", "sad"];

    public static string Create(string root, int words = 6, int rate = 16000)
    {
        var rng = new Rng(99);
        foreach (var (speaker, voice) in new[] { ("OAF", 1.0), ("YAF", 1.5) })
            for (int e = 0; e < Emotions.Length; e++)
            {
                string dir = Path.Combine(root, $"{speaker}_{Folders[e]}");
                Directory.CreateDirectory(dir);
                for (int w = 0; w < words; w++)
                {
                    int n = (int)(rate * (0.45 + 0.1 * rng.NextDouble()));
                    var samples = new float[n];
                    double f0 = voice * (110 + 35 * e), slope = (e % 3 - 1) * 0.6, amplitude = 0.15 + 0.1 * (e % 4), phase = 0;
                    for (int i = 0; i < n; i++)
                    {
                        double t = i / (double)n, f = f0 * (1 + slope * (t - 0.5));
                        phase += 2 * Math.PI * f / rate;
                        double envelope = Math.Sin(Math.PI * t);
                        samples[i] = (float)(amplitude * envelope * (Math.Sin(phase) + 0.5 * Math.Sin(2 * phase) + 0.25 * Math.Sin(3 * phase))
                                             + 0.003 * rng.NextGaussian());
                    }
                    File.WriteAllBytes(Path.Combine(dir, $"{speaker}_w{w}_{Emotions[e]}.wav"), TestAudio.Wav([samples], rate));
                }
            }
        return root;
    }
}
