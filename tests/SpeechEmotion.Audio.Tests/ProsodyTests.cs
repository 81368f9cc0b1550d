namespace SpeechEmotion.Audio.Tests;

public class ProsodyTests
{
    private const int Rate = 22050, Hop = 512;

    private static double Semitones(double hz) => 12 * Math.Log2(hz / 100);

    /// <summary>A harmonic-rich voice-like tone: the fundamental and four overtones of falling strength.</summary>
    private static float[] Voice(Func<double, double> pitchAt, double seconds, double amplitude = 0.3)
    {
        var x = new float[(int)(seconds * Rate)];
        double phase = 0;
        for (int n = 0; n < x.Length; n++)
        {
            phase += 2 * Math.PI * pitchAt(n / (double)Rate) / Rate;
            double v = 0;
            for (int h = 1; h <= 5; h++) v += Math.Sin(h * phase) / h;
            x[n] = (float)(amplitude * v / 2);
        }
        return x;
    }

    [Theory]
    [InlineData(110.0)]
    [InlineData(220.0)]
    [InlineData(330.0)]
    [InlineData(480.0)]
    public void ASteadyVoiceGivesItsPitchInSemitones(double hz)
    {
        var x = Voice(_ => hz, 1.0);
        int frames = 1 + x.Length / Hop;
        var p = Prosody.Compute(x, Rate, Hop, frames);
        for (int f = 3; f < frames - 3; f++) // away from the zero-padded ends
        {
            Assert.InRange(p[f * Prosody.Size], Semitones(hz) - 0.3, Semitones(hz) + 0.3); // lag rounding: < 0.3 semitone up to 480 Hz
            Assert.InRange(p[f * Prosody.Size + 1], 0.9f, 1f);
        }
    }

    [Fact]
    public void AGlideIsFollowedAndEnergyFollowsLoudness()
    {
        var x = Voice(t => 150 + 150 * t, 1.0); // 150 → 300 Hz: 12 semitones up
        int frames = 1 + x.Length / Hop;
        var p = Prosody.Compute(x, Rate, Hop, frames);
        for (int f = 3; f < frames - 3; f++)
            Assert.InRange(p[f * Prosody.Size], Semitones(150 + 150 * f * Hop / (double)Rate) - 0.5, Semitones(150 + 150 * f * Hop / (double)Rate) + 0.5);
        var quiet = Prosody.Compute(x.Select(v => v / 10).ToArray(), Rate, Hop, frames);
        for (int f = 3; f < frames - 3; f++)
            Assert.Equal(p[f * Prosody.Size + 2] - 20, quiet[f * Prosody.Size + 2], 2); // a tenth of the amplitude: 20 dB less
    }

    [Fact]
    public void UnvoicedGapsCarryThePitchAcrossAndNoiseIsUnvoiced()
    {
        var rng = new SpeechEmotion.Core.Tensors.Rng(5);
        var x = Voice(_ => 200, 1.5);
        int gapFrom = (int)(0.5 * Rate), gapTo = (int)(1.0 * Rate);
        for (int n = gapFrom; n < gapTo; n++) x[n] = (float)(0.2 * (rng.NextDouble() - 0.5)); // a noisy consonant-like gap
        int frames = 1 + x.Length / Hop;
        var p = Prosody.Compute(x, Rate, Hop, frames);
        int middle = (gapFrom + gapTo) / 2 / Hop;
        Assert.True(p[middle * Prosody.Size + 1] < Prosody.VoicedThreshold, $"noise voicing {p[middle * Prosody.Size + 1]}");
        Assert.InRange(p[middle * Prosody.Size], Semitones(200) - 0.3, Semitones(200) + 0.3); // carried from both sides

        var silence = Prosody.Compute(new float[Rate], Rate, Hop, 1 + Rate / Hop);
        Assert.All(silence, v => Assert.False(float.IsNaN(v) || float.IsInfinity(v)));
    }

    /// <summary>CountVoiced reads the voiced frames back from a feature matrix, wherever the prosody columns sit in it:
    /// a voice with half a second of noise in it is voiced for about its voice's second, noise alone never.</summary>
    [Fact]
    public void VoicedFramesAreCountedFromTheFeatureMatrix()
    {
        var rng = new SpeechEmotion.Core.Tensors.Rng(6);
        var x = Voice(_ => 180, 1.5);
        for (int n = (int)(0.5 * Rate); n < (int)(1.0 * Rate); n++) x[n] = (float)(0.2 * (rng.NextDouble() - 0.5));
        int frames = 1 + x.Length / Hop;
        var p = Prosody.Compute(x, Rate, Hop, frames);
        int voiced = Prosody.CountVoiced(p, frames, Prosody.Size, 0);
        Assert.InRange(voiced * Hop / (double)Rate, 0.85, 1.05); // the voice's 1.0 s, less a frame or two at each edge of the gap

        const int stride = 7, offset = 4; // as a front end lays them out: spectral columns first, prosody last
        var wide = new float[frames * stride];
        for (int f = 0; f < frames; f++)
        {
            for (int c = 0; c < offset; c++) wide[f * stride + c] = 1f; // spectral columns that look voiced: must not be read
            Array.Copy(p, f * Prosody.Size, wide, f * stride + offset, Prosody.Size);
        }
        Assert.Equal(voiced, Prosody.CountVoiced(wide, frames, stride, offset));

        var noise = new float[Rate];
        for (int n = 0; n < noise.Length; n++) noise[n] = (float)(0.5 * (rng.NextDouble() - 0.5));
        int noiseFrames = 1 + noise.Length / Hop;
        Assert.Equal(0, Prosody.CountVoiced(Prosody.Compute(noise, Rate, Hop, noiseFrames), noiseFrames, Prosody.Size, 0));
        Assert.Throws<ArgumentException>(() => Prosody.CountVoiced(wide, frames, stride, stride - 2));
    }

    [Fact]
    public void FrontEndAppendsProsodyAfterTheSpectralFeatures()
    {
        var plain = new FrontEndSettings();
        var withProsody = new FrontEndSettings(prosody: true);
        Assert.Equal(plain.FeatureSize + Prosody.Size, withProsody.FeatureSize);
        Assert.Equal(plain.FeatureSize, withProsody.SpectralSize);
        Assert.Equal(withProsody, FrontEndSettings.Parse(withProsody.Serialize()));
        Assert.DoesNotContain("prosody", plain.Serialize()); // settings (and caches keyed by them) from before prosody stay as they were
        Assert.False(FrontEndSettings.Parse(plain.Serialize()).Prosody);

        var clip = new AudioClip(Voice(_ => 220, 1.2), Rate, "test", "float", 1);
        var a = new FrontEnd(plain).Extract(clip, "voice");
        var b = new FrontEnd(withProsody).Extract(clip, "voice");
        Assert.Equal(a.Frames, b.Frames);
        for (int f = 0; f < a.Frames; f++)
            Assert.Equal(a.Values.AsSpan(f * a.FeatureSize, a.FeatureSize).ToArray(), b.Values.AsSpan(f * b.FeatureSize, a.FeatureSize).ToArray());
        Assert.InRange(b.Values[(b.Frames / 2) * b.FeatureSize + a.FeatureSize], Semitones(220) - 0.3, Semitones(220) + 0.3);
    }
}
