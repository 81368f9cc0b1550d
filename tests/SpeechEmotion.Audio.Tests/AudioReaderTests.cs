using System.Buffers.Binary;
using SpeechEmotion.Core;

namespace SpeechEmotion.Audio.Tests;

public sealed class AudioReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("se-audio-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static readonly float[] Left = TestAudio.Tone(440, 0.05, 16000, 0.5), Right = TestAudio.Tone(880, 0.05, 16000, 0.25);

    [Theory]
    [InlineData(8, false, false, 1.0 / 128)]
    [InlineData(16, false, false, 1.0 / 32768)]
    [InlineData(24, false, false, 1.0 / 8388608)]
    [InlineData(32, false, false, 1e-7)]
    [InlineData(32, true, false, 1e-7)]
    [InlineData(64, true, false, 1e-7)]
    [InlineData(16, false, true, 1.0 / 32768)]
    [InlineData(32, true, true, 1e-7)]
    public void EveryWavEncodingReadsBackMonoAndStereo(int bits, bool isFloat, bool extensible, double tolerance)
    {
        var mono = AudioReader.Read(Write("mono.wav", TestAudio.Wav([Left], 16000, bits, isFloat, extensible)));
        Assert.Equal(16000, mono.SampleRate);
        Assert.Equal(1, mono.Channels);
        Assert.Equal(Left.Length, mono.Samples.Length);
        for (int i = 0; i < Left.Length; i++) Assert.True(Math.Abs(mono.Samples[i] - Left[i]) <= tolerance, $"sample {i}: {mono.Samples[i]} vs {Left[i]}");

        var stereo = AudioReader.Read(Write("stereo.wav", TestAudio.Wav([Left, Right], 16000, bits, isFloat, extensible)));
        Assert.Equal(2, stereo.Channels);
        for (int i = 0; i < Left.Length; i++)
            Assert.True(Math.Abs(stereo.Samples[i] - (Left[i] + Right[i]) / 2) <= tolerance, $"mixed sample {i}");
        Assert.Equal(isFloat ? $"float{bits}" : $"pcm{bits}", stereo.Encoding);
    }

    [Fact]
    public void ChunksInAnyOrderAndOddSizesAreSkipped()
    {
        byte[] data = TestAudio.Chunk("data", TestAudio.Samples([Left], 16, false));
        byte[] fmt = TestAudio.Fmt(1, 1, 16000, 16);
        byte[] list = TestAudio.Chunk("LIST", "INFOISFT\u0005\0\0\0Lavf\0"u8.ToArray()); // odd length: padded
        byte[] emptyList = TestAudio.Chunk("LIST", []); // as 1,399 TESS files carry after their data
        byte[] bext = TestAudio.Chunk("bext", new byte[602]), pad = TestAudio.Chunk("PAD ", new byte[7]), fllr = TestAudio.Chunk("FLLR", new byte[4000]);
        foreach (var order in new[] { new[] { list, fmt, bext, data, emptyList }, [data, fmt], [fllr, fmt, pad, data, list], [fmt, data, pad, bext] })
        {
            var clip = AudioReader.Read(Write("order.wav", TestAudio.Riff(order)));
            Assert.Equal(Left.Length, clip.Samples.Length);
            Assert.Equal(Left[10], clip.Samples[10], 4);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("NONE")]
    [InlineData("sowt")]
    [InlineData("fl32")]
    public void AiffIsFoundByItsHeaderWhateverTheName(string? aifcType)
    {
        int bits = aifcType == "fl32" ? 32 : 16;
        var clip = AudioReader.Read(Write("YAF_germ_angry.wav", TestAudio.Aiff([Left, Right], 24414, bits, aifcType)));
        Assert.Equal("AIFF", clip.Container);
        Assert.Equal(24414, clip.SampleRate);
        Assert.Equal(2, clip.Channels);
        for (int i = 0; i < Left.Length; i++) Assert.True(Math.Abs(clip.Samples[i] - (Left[i] + Right[i]) / 2) <= 1.0 / 32768, $"sample {i}");
    }

    private void Rejects(string fileName, byte[] bytes, string expected, long maxBytes = AudioReader.DefaultMaxBytes)
    {
        string path = Write(fileName, bytes);
        var error = Assert.Throws<AudioException>(() => AudioReader.Read(path, maxBytes));
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
        Assert.IsAssignableFrom<SpeechEmotionException>(error);
    }

    private static int Find(byte[] file, string chunk) => file.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(chunk));

    [Fact]
    public void BadFilesAreRejectedWithTheFileAndTheProblem()
    {
        byte[] good = TestAudio.Wav([Left], 16000);
        Rejects("text.wav", "hello, this is not audio at all"u8.ToArray(), "not a WAV, AIFF, FLAC, MP3 or Ogg Vorbis file");
        Rejects("avi.wav", [.. "RIFF"u8, 0, 0, 0, 0, .. "AVI LIST"u8], "not WAVE");
        Rejects("short.wav", good[..10], "truncated header");
        Rejects("cut.wav", good[..(good.Length - 101)], "truncated data");
        Rejects("nofmt.wav", TestAudio.Riff(TestAudio.Chunk("data", new byte[100])), "no 'fmt ' chunk");
        Rejects("nodata.wav", TestAudio.Riff(TestAudio.Fmt(1, 1, 16000, 16)), "no 'data' chunk");
        Rejects("empty.wav", TestAudio.Riff(TestAudio.Fmt(1, 1, 16000, 16), TestAudio.Chunk("data", [])), "zero samples");
        Rejects("mp3.wav", TestAudio.Riff(TestAudio.Fmt(0x55, 1, 16000, 16), TestAudio.Chunk("data", new byte[100])), "unsupported codec MP3");
        Rejects("adpcm.wav", TestAudio.Riff(TestAudio.Fmt(2, 1, 16000, 16), TestAudio.Chunk("data", new byte[100])), "unsupported codec Microsoft ADPCM");
        Rejects("nochannels.wav", TestAudio.Riff(TestAudio.Fmt(1, 0, 16000, 16), TestAudio.Chunk("data", new byte[100])), "0 channels");
        Rejects("zerohz.wav", TestAudio.Riff(TestAudio.Fmt(1, 1, 0, 16), TestAudio.Chunk("data", new byte[100])), "sample rate 0 Hz in the header is outside 1,000…1,000,000 Hz");
        // A small file declaring 1 Hz once needed gigabytes to resample: refused at the header.
        Rejects("onehz.wav", TestAudio.Riff(TestAudio.Fmt(1, 1, 1, 16), TestAudio.Chunk("data", new byte[44_000])), "sample rate 1 Hz in the header is outside");
        Rejects("twomhz.wav", TestAudio.Riff(TestAudio.Fmt(1, 1, 2_000_000, 16), TestAudio.Chunk("data", new byte[100])), "sample rate 2,000,000 Hz");
        Rejects("12bit.wav", TestAudio.Riff(TestAudio.Fmt(1, 1, 16000, 12), TestAudio.Chunk("data", new byte[100])), "unsupported sample format: 12-bit PCM");
        Rejects("huge.wav", good, "over the limit of 100 bytes", maxBytes: 100);
        Rejects("nan.wav", TestAudio.Wav([[0.1f, float.NaN, 0.2f, 0.3f]], 16000, bits: 32, isFloat: true), "sample 1 is NaN: the audio must be finite numbers");
        Rejects("inf.wav", TestAudio.Wav([[0.1f, 0.2f, float.PositiveInfinity]], 16000, bits: 32, isFloat: true), "sample 2 is Infinity");
        Rejects("song.mp3", [.. "ID3"u8, 4, 0, 0, 0, 0, 0, 0, 0, 0], "cannot be decoded as MP3");
        var huge = (byte[])good.Clone(); // a data chunk claiming more than the file holds
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(40), 0x7FFF_FFF0);
        Rejects("claims.wav", huge, "claims 2,147,483,632 bytes");
        // Found by the audio fuzzer (each an ArgumentOutOfRangeException once): an AIFF with a negative bit depth, and
        // an 'SSND' data offset so large that it wrapped around as an int.
        byte[] aiff = TestAudio.Aiff([Left], 16000);
        var negativeBits = (byte[])aiff.Clone();
        BinaryPrimitives.WriteInt16BigEndian(negativeBits.AsSpan(Find(aiff, "COMM") + 8 + 6), unchecked((short)0xF60F));
        Rejects("negative.aiff", negativeBits, "the header says -2545 bits per sample");
        var farOffset = (byte[])aiff.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(farOffset.AsSpan(Find(aiff, "SSND") + 8), 0xFFFF_FFF0);
        Rejects("offset.aiff", farOffset, "'SSND' data offset 4294967280 lies beyond the chunk");
        var missing = Path.Combine(_dir, "missing.wav");
        Assert.Contains("file not found", Assert.Throws<AudioException>(() => AudioReader.Read(missing)).Message);
    }

    [Theory]
    [InlineData(24414)]
    [InlineData(96000)]
    [InlineData(8000)]
    [InlineData(44100)]
    public void ResamplingKeepsAToneAndLibrosasLength(int fromRate)
    {
        var tone = TestAudio.Tone(1000, 1.0, fromRate);
        var resampled = Resampling.Resample(tone, fromRate, 22050);
        Assert.Equal((int)Math.Ceiling(tone.Length * 22050.0 / fromRate), resampled.Length);
        double squared = 0; int count = 0;
        for (int i = 2000; i < resampled.Length - 2000; i++) // away from the edges, where the signal starts and stops
        {
            double expected = 0.5 * Math.Sin(2 * Math.PI * 1000 * i / 22050.0);
            squared += (resampled[i] - expected) * (resampled[i] - expected); count++;
        }
        Assert.True(Math.Sqrt(squared / count) < 2e-3, $"rms error {Math.Sqrt(squared / count):E2}");
    }

    [Fact]
    public void ResamplingRemovesWhatTheNewRateCannotHold()
    {
        var high = TestAudio.Tone(15000, 1.0, 48000); // above 11,025 Hz: must vanish at 22,050
        var resampled = Resampling.Resample(high, 48000, 22050);
        double rms = Math.Sqrt(resampled.Skip(2000).Take(resampled.Length - 4000).Average(v => (double)v * v));
        Assert.True(rms < 1e-3, $"aliased energy, rms {rms:E2}");
    }

    /// <summary>A FIFO (or an empty file) is refused without being opened: reading a pipe would wait for ever.</summary>
    [Fact]
    public async Task APipeOrAnEmptyFileIsRefusedUnread()
    {
        string empty = Write("empty-file.wav", []);
        Assert.Contains("is empty (0 bytes) or not a regular file", Assert.Throws<AudioException>(() => AudioReader.Read(empty)).Message);
        if (OperatingSystem.IsWindows()) return;
        string fifo = Path.Combine(Path.GetDirectoryName(empty)!, "pipe.wav");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        var read = Task.Run(() => AudioReader.Read(fifo));
        var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(finished == read, "reading a FIFO hung");
        var error = await Assert.ThrowsAsync<AudioException>(() => read);
        Assert.Equal($"{fifo}: is empty (0 bytes) or not a regular file (a pipe or a device): nothing to read.", error.Message);
    }
}

public class ResamplerTests
{
    /// <summary>The per-phase table resampler against the direct formula, for the rates TESS and users bring.</summary>
    [Theory]
    [InlineData(24414)]
    [InlineData(96000)]
    [InlineData(8000)]
    [InlineData(44100)]
    [InlineData(16000)]
    public void TableResamplerMatchesTheDirectFormula(int fromRate)
    {
        var rng = new SpeechEmotion.Core.Tensors.Rng(4);
        var input = new float[fromRate / 4];
        rng.FillUniform(input, -0.5f, 0.5f);
        var expected = Resampling.Resample(input, fromRate, 22050);
        var resampler = new Resampler();
        var actual = resampler.Resample(input, fromRate, 22050);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-4, $"sample {i}: {expected[i]} vs {actual[i]}");
        Assert.Equal(actual, resampler.Resample(input, fromRate, 22050)); // the cached table gives the same result
    }

    [Fact]
    public void AnExtensibleSubFormatIsCheckedWholeAndTwoDataChunksAreRefused()
    {
        var samples = TestAudio.Samples([TestAudio.Tone(220, 0.1, 16000)], 16, isFloat: false);
        var fmt = TestAudio.Fmt(1, 1, 16000, 16, extensible: true);
        fmt[^1] ^= 0x01; // a GUID that shares PCM's first two bytes but is not KSDATAFORMAT_SUBTYPE_PCM
        var odd = TestAudio.Riff(fmt, TestAudio.Chunk("data", samples));
        Assert.Contains("unsupported WAVE_FORMAT_EXTENSIBLE sub-format 0100000000001000800000AA00389B70",
            Assert.Throws<AudioException>(() => AudioReader.Decode(odd, "odd.wav")).Message);
        var twice = TestAudio.Riff(TestAudio.Fmt(1, 1, 16000, 16), TestAudio.Chunk("data", samples), TestAudio.Chunk("data", samples));
        Assert.Contains("two 'data' chunks", Assert.Throws<AudioException>(() => AudioReader.Decode(twice, "twice.wav")).Message);
        Assert.Equal(1600, AudioReader.Decode(TestAudio.Riff(TestAudio.Fmt(1, 1, 16000, 16, extensible: true), TestAudio.Chunk("data", samples)), "ok.wav").Samples.Length);
    }
}
