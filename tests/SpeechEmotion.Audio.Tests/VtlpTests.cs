using SpeechEmotion.Audio;
using SpeechEmotion.Core;

namespace SpeechEmotion.Audio.Tests;

/// <summary>Vocal-tract-length perturbation: the warp function and its effect on the filter bank.</summary>
public class VtlpTests
{
    private const double Nyquist = 11025;

    [Theory]
    [InlineData(0.9)]
    [InlineData(1.1)]
    [InlineData(0.8)]
    [InlineData(1.25)]
    public void WarpIsContinuousMonotonicAndKeepsTheEndsOfTheAxis(double alpha)
    {
        Assert.Equal(0, MfccExtractor.Warp(0, alpha, Nyquist));
        Assert.Equal(Nyquist, MfccExtractor.Warp(Nyquist, alpha, Nyquist), 6);
        double boundary = MfccExtractor.WarpBoundaryHz * Math.Min(alpha, 1) / alpha;
        Assert.Equal(boundary * alpha, MfccExtractor.Warp(boundary + 1e-9, alpha, Nyquist), 4); // no jump at the knee
        Assert.Equal(1000 * alpha, MfccExtractor.Warp(1000, alpha, Nyquist), 9);                 // formant region scales by α
        double previous = -1;
        for (double f = 0; f <= Nyquist; f += 25)
        {
            double w = MfccExtractor.Warp(f, alpha, Nyquist);
            Assert.True(w > previous, $"warp by {alpha} is not increasing at {f} Hz");
            previous = w;
        }
    }

    [Fact]
    public void WarpOfOneIsTheIdentity()
    {
        for (double f = 0; f <= Nyquist; f += 100) Assert.Equal(f, MfccExtractor.Warp(f, 1.0, Nyquist), 9);
        var tone = TestAudio.Tone(700, 0.5, 22050);
        var plain = new MfccExtractor(new MfccOptions()).Compute(tone, out _);
        var unwarped = new MfccExtractor(new MfccOptions(), warp: 1.0).Compute(tone, out _);
        Assert.Equal(plain, unwarped);
    }

    /// <summary>Warping by α &gt; 1 reads the spectrum as if formants were α times higher: a tone lands in a higher band.</summary>
    [Fact]
    public void AWarpAboveOneMovesATonesEnergyToHigherMelBands()
    {
        var tone = TestAudio.Tone(1000, 0.5, 22050);
        int Loudest(double alpha)
        {
            var mel = new MfccExtractor(new MfccOptions(), alpha).MelSpectrogramDb(tone, out int frames);
            int bands = mel.Length / frames, middle = frames / 2;
            return Enumerable.Range(0, bands).MaxBy(b => mel[middle * bands + b]);
        }
        int down = Loudest(0.85), none = Loudest(1.0), up = Loudest(1.2);
        Assert.True(down < none && none < up, $"loudest band: α 0.85 → {down}, 1 → {none}, 1.2 → {up}");
    }

    /// <summary>Several warps in one pass (one preparation, one prosody, one power spectrum per frame) give, bit for bit,
    /// what one extraction per warp gives, in the order asked for; and a 13-coefficient DCT its full one's first 13.</summary>
    [Fact]
    public void WarpsExtractedTogetherAreTheSameBitsAsOneAtATime()
    {
        var rng = new Random(3);
        var voice = TestAudio.Tone(180, 0.8, 24414).Select((v, i) => v + 0.3f * MathF.Sin(i * 0.37f) * (float)rng.NextDouble()).ToArray();
        var clip = new AudioClip(voice, 24414, "voice", "float32", 1);
        var settings = new FrontEndSettings(coefficients: 13, window: WindowMode.Trim, deltas: true, trimTopDb: 30, prosody: true);
        double[] warps = [0.9, 1.0, 1.1, 0.9];
        var together = new FrontEnd(settings).Extract(clip, "voice", warps);
        Assert.Equal(warps.Length, together.Length);
        for (int k = 0; k < warps.Length; k++)
        {
            var alone = new FrontEnd(settings).Extract(clip, "voice", warp: warps[k]);
            Assert.Equal(alone.Frames, together[k].Frames);
            Assert.Equal(alone.Values, together[k].Values);
        }
        Assert.NotEqual(together[0].Values, together[1].Values);

        var tone = TestAudio.Tone(440, 0.5, 22050);
        var full = new MfccExtractor(new MfccOptions(coefficients: 128)).Compute(tone, out int frames);
        var first13 = new MfccExtractor(new MfccOptions(coefficients: 13)).Compute(tone, out _);
        for (int f = 0; f < frames; f++) Assert.Equal(full.AsSpan(f * 128, 13).ToArray(), first13.AsSpan(f * 13, 13).ToArray());
    }

    [Fact]
    public void AnOutOfRangeWarpIsRefusedByName()
    {
        var error = Assert.Throws<OptionsException>(() => new MfccExtractor(new MfccOptions(), warp: 1.5));
        Assert.Contains("VTLP warp factor", error.Message);
    }
}
