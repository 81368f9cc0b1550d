using System.Buffers.Binary;
using System.Text;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Audio.Tests;

/// <summary>
/// Long audio streams through the front end in bounded memory (#13): FrontEnd.Extract(AudioStream) gives the same
/// features, bit for bit, as reading the file whole, for every window, several rates and containers, and lengths over
/// many blocks; and a ten-minute 48 kHz file is featurised allocating a fraction of what its samples alone would take.
/// </summary>
public sealed class StreamingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("se-stream-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Bursts of a gliding harmonic tone between silences (so trimming has work), with a little noise.</summary>
    private static float[] Speechy(double seconds, int rate, int seed)
    {
        var rng = new Rng((ulong)seed);
        var samples = new float[(int)(seconds * rate)];
        double phase = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            double t = i / (double)rate;
            double burst = Math.Max(0, Math.Sin(2 * Math.PI * t / 3.1)); // on for half of every 3.1 s
            phase += 2 * Math.PI * (120 + 40 * Math.Sin(t)) / rate;
            samples[i] = (float)(0.3 * burst * (Math.Sin(phase) + 0.3 * Math.Sin(3 * phase)) + 0.002 * rng.NextGaussian());
        }
        // Leading and trailing silence, so the trimmed range starts and ends inside the file.
        Array.Clear(samples, 0, rate / 2);
        Array.Clear(samples, samples.Length - rate / 3, rate / 3);
        return samples;
    }

    private static void SameFeatures(string path, FrontEndSettings settings)
    {
        var whole = new FrontEnd(settings).Extract(path);
        Features streamed;
        using (var audio = AudioStream.Open(path)) streamed = new FrontEnd(settings).Extract(audio);
        Assert.Equal(whole.Frames, streamed.Frames);
        Assert.Equal(whole.FeatureSize, streamed.FeatureSize);
        for (int i = 0; i < whole.Values.Length; i++)
            if (BitConverter.SingleToInt32Bits(whole.Values[i]) != BitConverter.SingleToInt32Bits(streamed.Values[i]))
                Assert.Fail($"{Path.GetFileName(path)} ({settings.Window}): value {i} of {whole.Values.Length} is {streamed.Values[i]} streamed, {whole.Values[i]} read whole");
    }

    [Theory]
    [InlineData(16000, 1, 16, 7.0)]      // resampled up, a few blocks
    [InlineData(44100, 2, 32, 12.5)]     // stereo float, resampled down, more than 8 blocks of input
    [InlineData(22050, 1, 16, 4.0)]      // the front end's own rate: no resampling
    [InlineData(24414, 1, 24, 3.3)]      // TESS's rate
    public void A_streamed_file_gives_the_features_of_the_whole_file(int rate, int channels, int bits, double seconds)
    {
        var left = Speechy(seconds, rate, rate);
        float[][] data = channels == 1 ? [left] : [left, Speechy(seconds, rate, rate + 1)];
        string path = Path.Combine(_dir, $"clip-{rate}.wav");
        File.WriteAllBytes(path, TestAudio.Wav(data, rate, bits, isFloat: bits == 32));
        foreach (var window in new[] { WindowMode.Trim, WindowMode.Whole, WindowMode.Seed })
            SameFeatures(path, new FrontEndSettings(window: window, trimTopDb: 30));
        SameFeatures(path, new FrontEndSettings(coefficients: 13, deltas: false, trimTopDb: 60));
        string aiff = Path.Combine(_dir, $"clip-{rate}.aiff");
        File.WriteAllBytes(aiff, TestAudio.Aiff(data, rate, bits == 32 ? 16 : bits));
        SameFeatures(aiff, new FrontEndSettings(trimTopDb: 30));
    }

    [Fact]
    public void Silence_and_short_files_are_refused_as_when_read_whole()
    {
        string silent = Path.Combine(_dir, "silent.wav");
        File.WriteAllBytes(silent, TestAudio.Wav([new float[40000]], 16000));
        using (var audio = AudioStream.Open(silent))
            Assert.Contains("digital silence", Assert.Throws<AudioException>(() => new FrontEnd(new FrontEndSettings()).Extract(audio)).Message);
        string shortFile = Path.Combine(_dir, "short.wav");
        File.WriteAllBytes(shortFile, TestAudio.Wav([TestAudio.Tone(200, 0.2, 16000)], 16000));
        using (var audio = AudioStream.Open(shortFile))
            Assert.Contains("shorter than the 0.5 s offset", Assert.Throws<AudioException>(() => new FrontEnd(new FrontEndSettings(window: WindowMode.Seed)).Extract(audio)).Message);
        Assert.Contains("file not found", Assert.Throws<AudioException>(() => AudioStream.Open(Path.Combine(_dir, "none.wav"))).Message);
    }

    [Fact]
    public void Ten_minutes_at_48_kHz_are_featurised_in_a_fraction_of_the_samples_memory()
    {
        const int rate = 48000, seconds = 600;
        string path = Path.Combine(_dir, "long.wav");
        // Written a second at a time: the test itself never holds the recording.
        using (var file = new FileStream(path, FileMode.Create))
        {
            long dataBytes = 2L * rate * seconds;
            file.Write(TestAudio.Fmt(1, 1, rate, 16) is var fmt ? Header(fmt, dataBytes) : []);
            var second = new byte[2 * rate];
            var tone = Speechy(3.1, rate, 5);
            for (int s = 0; s < seconds; s++)
            {
                for (int i = 0; i < rate; i++)
                    BinaryPrimitives.WriteInt16LittleEndian(second.AsSpan(2 * i), (short)(tone[(s * rate + i) % tone.Length] * 32767));
                file.Write(second);
            }
        }
        var frontEnd = new FrontEnd(new FrontEndSettings(trimTopDb: 30));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Features features;
        using (var audio = AudioStream.Open(path)) features = frontEnd.Extract(audio);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long decoded = 4L * rate * seconds; // what the mono samples alone take as floats (115 MB), read whole
        Assert.True(features.Frames > 25_000, $"{features.Frames} frames");
        // What is kept grows with the frames (log-mel rows, MFCCs, deltas, features: ~2.5 KB a frame), not the samples.
        Assert.True(allocated < decoded / 2, $"streaming allocated {allocated / 1e6:F1} MB; the samples alone are {decoded / 1e6:F0} MB");
    }

    private static byte[] Header(byte[] fmt, long dataBytes)
    {
        var header = new byte[12 + fmt.Length + 8];
        Encoding.ASCII.GetBytes("RIFF").CopyTo(header, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)(4 + fmt.Length + 8 + dataBytes));
        Encoding.ASCII.GetBytes("WAVE").CopyTo(header, 8);
        fmt.CopyTo(header, 12);
        Encoding.ASCII.GetBytes("data").CopyTo(header, 12 + fmt.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12 + fmt.Length + 4), (uint)dataBytes);
        return header;
    }
}
