using System.Buffers.Binary;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Benchmarks;

/// <summary>TESS-shaped stand-in data for benchmarks on a machine without the corpus.</summary>
public static class SyntheticCorpus
{
    public static byte[] Wav16(float[] samples, int rate)
    {
        var bytes = new byte[44 + 2 * samples.Length];
        "RIFF"u8.CopyTo(bytes); BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), bytes.Length - 8); "WAVEfmt "u8.CopyTo(bytes.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), 16); BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(20), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(22), 1); BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(24), rate);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(28), 2 * rate); BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(32), 2);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(34), 16); "data"u8.CopyTo(bytes.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(40), 2 * samples.Length);
        for (int i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(44 + 2 * i), (short)Math.Clamp(samples[i] * 32768, -32768, 32767));
        return bytes;
    }

    /// <summary>A TESS-layout folder of <paramref name="count"/> 2-s files; returns its path.</summary>
    public static string Create(int count)
    {
        string root = Directory.CreateTempSubdirectory("se-bench-").FullName;
        var rng = new Rng(5);
        string[] emotions = ["angry", "disgust", "fear", "happy", "neutral", "ps", "sad"];
        for (int i = 0; i < count; i++)
        {
            string speaker = i % 2 == 0 ? "OAF" : "YAF", emotion = emotions[i % 7];
            string dir = Path.Combine(root, $"{speaker}_{emotion}");
            Directory.CreateDirectory(dir);
            var samples = new float[2 * 24414];
            double f0 = 150 + 20 * (i % 7);
            for (int n = 0; n < samples.Length; n++) samples[n] = (float)(0.3 * Math.Sin(2 * Math.PI * f0 * n / 24414.0) + 0.02 * rng.NextGaussian());
            File.WriteAllBytes(Path.Combine(dir, $"{speaker}_w{i}_{emotion}.wav"), Wav16(samples, 24414));
        }
        return root;
    }
}
