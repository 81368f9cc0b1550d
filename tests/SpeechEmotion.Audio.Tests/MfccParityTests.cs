using SpeechEmotion.Core.IO;

namespace SpeechEmotion.Audio.Tests;

/// <summary>
/// Our MFCCs against torchaudio configured as librosa (tests/fixtures/mfcc/make_mfcc_fixture.py): within
/// 0.05 dB mean absolute error and 0.5 dB worst case, on a tone, a chirp, noise and silence-then-tone.
/// Deltas against scipy's Savitzky–Golay filter, as librosa.feature.delta uses it.
/// </summary>
public class MfccParityTests
{
    private static readonly Dictionary<string, NamedTensor> Fixture =
        SafeTensors.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "mfcc", "mfcc_reference.safetensors")).Tensors.ToDictionary(t => t.Name);

    public static TheoryData<string> Signals => new() { "tone", "chirp", "noise", "silence_then_tone" };

    [Theory]
    [MemberData(nameof(Signals))]
    public void MfccMatchesTorchaudioConfiguredAsLibrosa(string signal)
    {
        var expected = Fixture[$"{signal}.mfcc"];
        var extractor = new MfccExtractor(new MfccOptions());
        float[] mfcc = extractor.Compute(Fixture[$"{signal}.signal"].Data, out int frames);
        Assert.Equal(expected.Shape[0], frames);
        Assert.Equal(expected.Data.Length, mfcc.Length);
        double sum = 0, worst = 0;
        int worstAt = 0;
        for (int i = 0; i < mfcc.Length; i++)
        {
            double error = Math.Abs(mfcc[i] - expected.Data[i]);
            sum += error;
            if (error > worst) { worst = error; worstAt = i; }
        }
        double mean = sum / mfcc.Length;
        Assert.True(mean <= 0.05, $"{signal}: mean absolute error {mean:F4} dB > 0.05 dB");
        Assert.True(worst <= 0.5, $"{signal}: worst error {worst:F4} dB at frame {worstAt / 40}, coefficient {worstAt % 40} > 0.5 dB");
    }

    [Theory]
    [MemberData(nameof(Signals))]
    public void DeltasMatchSavitzkyGolayInterp(string signal)
    {
        var mfcc = Fixture[$"{signal}.mfcc"];
        int frames = mfcc.Shape[0], coefficients = mfcc.Shape[1];
        for (int order = 1; order <= 2; order++)
        {
            var expected = Fixture[$"{signal}.delta{order}"].Data;
            var actual = Deltas.Compute(mfcc.Data, frames, coefficients, order);
            for (int i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-3 + 1e-4 * Math.Abs(expected[i]),
                    $"{signal} delta{order} frame {i / coefficients} coefficient {i % coefficients}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public void ShortInputsStillGiveDeltas()
    {
        float[] ramp = [0f, 1f, 2f, 3f, 4f]; // 5 frames × 1 coefficient: the window shrinks to 5
        var d1 = Deltas.Compute(ramp, 5, 1, 1);
        Assert.All(d1, v => Assert.Equal(1f, v, 5));
        Assert.All(Deltas.Compute(ramp, 5, 1, 2), v => Assert.Equal(0f, v, 5));
        Assert.All(Deltas.Compute([1f, 2f], 2, 1, 1), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        var error = Assert.Throws<SpeechEmotion.Core.OptionsException>(() => new MfccOptions(fftSize: 1000, coefficients: 200));
        Assert.Contains("FftSize must be a power of two", error.Message);
        Assert.Contains("Coefficients must be in 1…MelBands (128), got 200", error.Message);
    }
}
