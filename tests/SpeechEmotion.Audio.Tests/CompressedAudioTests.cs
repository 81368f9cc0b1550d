namespace SpeechEmotion.Audio.Tests;

/// <summary>
/// FLAC (our decoder), MP3 (NLayer) and Ogg Vorbis (NVorbis) on the small synthetic files of tests/fixtures/audio
/// (made by its make.sh with sox, flac, lame and oggenc). Each FLAC file passes its own MD5 of the samples, so decoding
/// it at all proves the samples exact; the tests add what the signal must be and what a broken file must give.
/// </summary>
public sealed class CompressedAudioTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("se-compressed-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "audio", name);

    [Theory] // what metaflac says of each file; the parts of the format each exercises are listed in make.sh
    [InlineData("mono16-fixed.flac", 16000, 1, 16, 14400)]
    [InlineData("mono16-wasted.flac", 8000, 1, 16, 2400)]
    [InlineData("mono8.flac", 8000, 1, 8, 2400)]
    [InlineData("mono24-lpc32.flac", 48000, 1, 24, 9600)]
    [InlineData("mono32.flac", 44100, 1, 32, 4410)]
    [InlineData("stereo16-sides.flac", 22050, 2, 16, 9921)]
    [InlineData("stereo24-verbatim.flac", 48000, 2, 24, 12000)]
    public void EveryFlacFixtureDecodesAndPassesItsMd5(string name, int rate, int channels, int bits, int frames)
    {
        var clip = AudioReader.Read(Fixture(name));
        Assert.Equal(("FLAC", $"pcm{bits}", rate, channels, frames), (clip.Container, clip.Encoding, clip.SampleRate, clip.Channels, clip.Samples.Length));
        Assert.All(clip.Samples, s => Assert.InRange(s, -1f, 1f));
        Assert.True(clip.Samples.Max(Math.Abs) > 0.1f);
    }

    [Fact]
    public void TheSignalIsTheOneEncoded()
    {
        // 0.3 s of a 440 Hz tone at amplitude 0.5, 0.3 s of digital silence (constant subframes), then a chirp.
        var clip = AudioReader.Read(Fixture("mono16-fixed.flac"));
        var tone = clip.Samples.AsSpan(0, 4800);
        Assert.InRange(tone.ToArray().Max(), 0.49f, 0.51f);
        Assert.True(Power(tone, 440, 16000) > 100 * Power(tone, 880, 16000));
        Assert.All(clip.Samples.AsSpan(4800, 4800).ToArray(), s => Assert.Equal(0f, s));

        // 8-bit samples, and the same samples widened to 16 bits (coded with 8 wasted bits): the same clip, bit for bit.
        Assert.Equal(AudioReader.Read(Fixture("mono8.flac")).Samples, AudioReader.Read(Fixture("mono16-wasted.flac")).Samples);
    }

    [Theory] // the RMS of the middle half second as the reference decoders (mpg123 1.31.2, oggdec 1.4.2) decode it, mixed to mono
    [InlineData("tone-mono.mp3", "MP3", 22050, 1, 0.335851)]
    [InlineData("tone-stereo.mp3", "MP3", 44100, 2, 0.335887)]
    [InlineData("tone-mono.ogg", "Ogg", 22050, 1, 0.353861)]
    [InlineData("tone-stereo.ogg", "Ogg", 44100, 2, 0.355922)]
    public void Mp3AndVorbisGiveTheTone(string name, string container, int rate, int channels, double referenceRms)
    {
        // 1 s of 440 Hz at amplitude 0.5, lossy: the encoder's delay and padding lengthen it a little.
        var clip = AudioReader.Read(Fixture(name));
        Assert.Equal((container, rate, channels), (clip.Container, clip.SampleRate, clip.Channels));
        Assert.InRange(clip.Duration, 0.99, 1.1);
        var middle = clip.Samples.AsSpan(rate / 4, rate / 2);
        double rms = Math.Sqrt(middle.ToArray().Average(s => (double)s * s));
        Assert.InRange(rms, referenceRms * 0.99, referenceRms * 1.01);
        Assert.True(Power(middle, 440, rate) > 1000 * Power(middle, 660, rate));
    }

    [Fact]
    public void AStreamOfACompressedFileGivesTheSamplesReadWhole()
    {
        using var stream = AudioStream.Open(Fixture("stereo16-sides.flac"));
        var whole = AudioReader.Read(Fixture("stereo16-sides.flac"));
        var streamed = new float[stream.Frames];
        for (int done = 0, n; (n = stream.Read(streamed.AsSpan(done))) > 0;) done += n;
        Assert.Equal(whole.Samples, streamed);
        Assert.Equal(whole.Samples.AsSpan(100, 50).ToArray(), stream.ReadClip(100, 50).Samples);
    }

    [Fact]
    public void ABrokenFlacFileIsOneClearErrorNamingIt()
    {
        byte[] good = File.ReadAllBytes(Fixture("mono16-fixed.flac"));
        int firstFrame = FirstFrame(good);

        var md5 = (byte[])good.Clone();
        md5[8 + 18] ^= 1; // STREAMINFO's MD5 starts 18 bytes into the block
        Assert.Contains("do not match the MD5", Rejects(md5));

        var header = (byte[])good.Clone();
        header[firstFrame + 3] ^= 0x10; // inside the first frame's header
        Assert.Contains("corrupt FLAC data", Rejects(header));

        var body = (byte[])good.Clone();
        body[good.Length - 200] ^= 0x55; // inside the last frame's subframes
        Assert.Contains("corrupt FLAC data", Rejects(body));

        Assert.Contains("truncated FLAC data", Rejects(good[..(good.Length / 2)]));
        Assert.Contains("truncated FLAC header", Rejects(good[..20]));
    }

    [Fact]
    public void EveryPrefixAndEveryByteFlipIsAnAudioExceptionOrAClip()
    {
        // A small fuzz of our own decoder: nothing but an AudioException (or, rarely, a valid clip) may come out.
        byte[] good = File.ReadAllBytes(Fixture("mono8.flac"));
        for (int length = 0; length < good.Length; length += 7) Outcome(good[..length]);
        var random = new Random(5);
        for (int i = 0; i < good.Length; i += 3)
        {
            var bad = (byte[])good.Clone();
            bad[i] ^= (byte)(1 << random.Next(8));
            Outcome(bad);
        }

        static void Outcome(byte[] bytes)
        {
            try { Assert.NotEmpty(AudioReader.Decode(bytes, "f.flac").Samples); }
            catch (AudioException e) { Assert.StartsWith("f.flac: ", e.Message); }
        }
    }

    [Fact]
    public void BrokenMp3AndOggFilesAreAudioExceptions()
    {
        foreach (var name in new[] { "tone-mono.mp3", "tone-stereo.ogg" })
        {
            byte[] good = File.ReadAllBytes(Fixture(name));
            var random = new Random(7);
            for (int trial = 0; trial < 200; trial++)
            {
                var bad = good[..random.Next(4, good.Length)];
                for (int k = 0; k < 8; k++) bad[random.Next(4, bad.Length)] = (byte)random.Next(256);
                try { AudioReader.Decode(bad, name); }
                catch (AudioException e) { Assert.StartsWith(name + ": ", e.Message); }
            }
        }
    }

    [Fact]
    public async Task AnMp3WithAWavHeaderThatLeadsNowhereIsRefusedNotHung()
    {
        // Found by the audio fuzzer: NLayer 3.0.1's constructor spun for ever walking the chunks of the WAV header
        // inside this 107-byte "MP3" (a chunk length pointing far past the end). Refused before NLayer sees it.
        byte[] found = Convert.FromHexString("ffff7fff524946468401000057415645666d742010000000ff000200527f4646846d7420ff524946468401000057415645666d742010000000ff000200527f4646846d1065666572656e6365206c6962464c414320312e346d742046a40100005763ff80666d7428101d00");
        var decode = Task.Run(() => Assert.Throws<AudioException>(() => AudioReader.Decode(found, "found.mp3")));
        var e = await decode.WaitAsync(TimeSpan.FromSeconds(30)); // a TimeoutException if it hangs again
        Assert.Equal("found.mp3: cannot be decoded as MP3: it holds a WAV header whose chunks do not lead to its data (they run past the end of the file or in a circle).", e.Message);

        // A WAV header inside an MPEG stream whose chunks do reach "data" is left to NLayer, as before.
        byte[] riff = [.. "RIFF"u8, 0, 0, 0, 0, .. "WAVEfmt "u8, 4, 0, 0, 0, 1, 2, 3, 4, .. "data"u8, 0, 0, 0, 0];
        CompressedAudio.RefuseLoopingRiffHeader([0xFF, 0xFB, 0x90, 0x00, .. riff], "ok.mp3");
        byte[] circle = [.. "RIFF"u8, 0, 0, 0, 0, .. "WAVEfmt "u8, 0xF8, 0xFF, 0xFF, 0xFF, .. "LIST"u8];
        Assert.Throws<AudioException>(() => CompressedAudio.RefuseLoopingRiffHeader([0xFF, 0xFB, 0x90, 0x00, .. circle], "circle.mp3"));
    }

    private string Rejects(byte[] bytes)
    {
        string path = Path.Combine(_dir, "broken.flac");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<AudioException>(() => AudioReader.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
        return e.Message;
    }

    private static int FirstFrame(byte[] bytes)
    {
        for (int i = 42; i + 1 < bytes.Length; i++)
            if (bytes[i] == 0xFF && bytes[i + 1] == 0xF8) return i;
        throw new InvalidOperationException("no frame");
    }

    /// <summary>Goertzel power of one frequency.</summary>
    private static double Power(ReadOnlySpan<float> x, double frequency, int rate)
    {
        double w = 2 * Math.PI * frequency / rate, c = 2 * Math.Cos(w), s1 = 0, s2 = 0;
        foreach (float v in x) { double s0 = v + c * s1 - s2; s2 = s1; s1 = s0; }
        return s1 * s1 + s2 * s2 - c * s1 * s2;
    }
}
