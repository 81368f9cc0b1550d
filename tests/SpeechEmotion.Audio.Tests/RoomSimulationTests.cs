using System.Numerics.Tensors;
using SpeechEmotion.Core;

namespace SpeechEmotion.Audio.Tests;

/// <summary>The simulated room: seeded, the input's length and energy kept, the noise at the SNR asked for, and a tail that decays as RT60 says.</summary>
public sealed class RoomSimulationTests
{
    private const int Rate = 16000;

    private static double Power(ReadOnlySpan<float> x) => TensorPrimitives.SumOfSquares(x) / x.Length;

    [Fact]
    public void NoiseComesAtTheAskedSnrAndTheSameSeedGivesTheSameCopy()
    {
        var tone = TestAudio.Tone(300, 1.0, Rate);
        var noisy = RoomSimulation.Apply(tone, Rate, new Room(0, 10), seed: 42);
        Assert.Equal(tone.Length, noisy.Length);
        var noise = noisy.Zip(tone, (a, b) => a - b).ToArray();
        double snr = 10 * Math.Log10(Power(tone) / Power(noise));
        Assert.InRange(snr, 9.8, 10.2);
        Assert.Equal(noisy, RoomSimulation.Apply(tone, Rate, new Room(0, 10), seed: 42));
        Assert.NotEqual(noisy, RoomSimulation.Apply(tone, Rate, new Room(0, 10), seed: 43));
    }

    [Fact]
    public void ReverberationKeepsTheEnergyAndItsTailDecaysBySixtyDecibelsOverRt60()
    {
        // An impulse in the middle of silence: the output is the room's impulse response.
        var click = new float[Rate];
        click[1000] = 1f;
        var wet = RoomSimulation.Apply(click, Rate, new Room(0.4, 60), seed: 7);
        Assert.Equal(Power(click), Power(wet), 1e-6 * 10); // energy kept (plus noise 60 dB down)
        double Band(int from, int to) => Power(wet.AsSpan(1000 + from, to - from));
        double early = Band(100, 900), late = Band((int)(0.3 * Rate), (int)(0.3 * Rate) + 800);
        // −60 dB per 0.4 s is −15 dB per 0.1 s: from ~0.03 s to ~0.33 s the power falls by about 45 dB.
        double fall = 10 * Math.Log10(early / late);
        Assert.InRange(fall, 38, 52);
        Assert.Equal(0f, wet[999], 3); // nothing before the direct sound but the faint noise
    }

    [Fact]
    public void RoomsAreValidatedAndParsed()
    {
        Assert.Equal("0.3:20", Room.Parse("0.3:20", "--rooms").ToString());
        Assert.Contains("--rooms takes rooms as RT60:SNR", Assert.Throws<OptionsException>(() => Room.Parse("0.3", "--rooms")).Message);
        Assert.Contains("Room RT60 must be 0 to 2 seconds, got 5", Assert.Throws<OptionsException>(() => Room.Parse("5:20", "--rooms")).Message);
        Assert.Contains("Room SNR must be 0 to 60 dB", Assert.Throws<OptionsException>(() => new Room(0.2, -3)).Message);
    }
}
