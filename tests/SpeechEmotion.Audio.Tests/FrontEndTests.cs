namespace SpeechEmotion.Audio.Tests;

public class FrontEndTests
{
    private static AudioClip Clip(float[] samples, int rate) => new(samples, rate, "WAV", "pcm16", 1);

    [Fact]
    public void TrimKeepsTheSpeechAndDropsTheSilence()
    {
        // 0.5 s silence, 0.5 s tone, 0.3 s silence at 22,050 Hz.
        var samples = new float[(int)(1.3 * 22050)];
        TestAudio.Tone(300, 0.5, 22050).CopyTo(samples, 11025);
        var (begin, end) = Trim.NonSilentRange(samples, 60);
        // Centred 2048-sample frames see the tone up to 1024 samples early/late; begin and end land on hops of 512.
        Assert.InRange(begin, 11025 - 1024 - 512, 11025);
        Assert.InRange(end, 22050, 22050 + 1024 + 512);
        Assert.Equal(0, begin % 512);
        // Digital silence: librosa's reference (the maximum) is the floor too, so every frame counts as non-silent.
        Assert.Equal((0, 5000), Trim.NonSilentRange(new float[5000], 60));
    }

    [Fact]
    public void SeedWindowTakesHalfASecondOffsetAtTheFilesRate()
    {
        var settings = new FrontEndSettings(window: WindowMode.Seed, deltas: false);
        var frontEnd = new FrontEnd(settings);
        var samples = TestAudio.Tone(200, 2.0, 24414);
        float[] prepared = frontEnd.Prepare(Clip(samples, 24414), "two-seconds.wav");
        int nativeCount = samples.Length - 12207; // round(24414·0.5) = 12207; 1.5 s remain, under the 3 s duration
        Assert.Equal((int)Math.Ceiling(nativeCount * 22050.0 / 24414), prepared.Length);
        var error = Assert.Throws<AudioException>(() => frontEnd.Prepare(Clip(TestAudio.Tone(200, 0.04, 24414), 24414), "tiny.wav"));
        Assert.Contains("tiny.wav", error.Message);
        Assert.Contains("shorter than the 0.5 s offset", error.Message);
    }

    [Fact]
    public void FeaturesStackMfccDeltasAndDeltaDeltas()
    {
        var frontEnd = new FrontEnd(new FrontEndSettings(window: WindowMode.Whole));
        var clip = Clip(TestAudio.Tone(440, 1.0, 22050), 22050);
        var features = frontEnd.Extract(clip, "tone.wav");
        Assert.Equal(120, features.FeatureSize);
        Assert.Equal(1 + 22050 / 512, features.Frames);
        var mfccOnly = new MfccExtractor(new MfccOptions()).Compute(clip.Samples, out _);
        Assert.Equal(mfccOnly[..40], features.Values[..40]);
        var delta = Deltas.Compute(mfccOnly, features.Frames, 40, 1);
        Assert.Equal(delta[120..160], features.Values[(3 * 120 + 40)..(3 * 120 + 80)]);
        var silent = Assert.Throws<AudioException>(() => new FrontEnd(new FrontEndSettings()).Extract(Clip(new float[22050], 22050), "silent.wav"));
        Assert.Contains("silent.wav: is digital silence", silent.Message);
    }

    [Fact]
    public void SettingsRoundTripAndValidate()
    {
        var settings = new FrontEndSettings(sampleRate: 16000, coefficients: 20, window: WindowMode.Seed, deltas: false, offsetSeconds: 0.25);
        Assert.Equal(settings.Serialize(), FrontEndSettings.Parse(settings.Serialize()).Serialize());
        Assert.Contains("DurationSeconds", Assert.Throws<SpeechEmotion.Core.OptionsException>(() => new FrontEndSettings(durationSeconds: 0)).Message);
    }
}
