using System.Buffers.Binary;

namespace SpeechEmotion.Audio.Tests;

/// <summary>
/// Our FLAC decoder on the real thing: every file of ../shared/data/tess-flac and ravdess-flac (4,240) decodes to
/// exactly the samples <c>flac -d</c> gave when get-tess and get-ravdess decoded them into data/tess and data/ravdess
/// (each channel, every sample), and the mono clip AudioReader makes of the FLAC is the one it makes of the WAV, bit
/// for bit. Skipped, with the reason, when the FLAC folders or the decoded corpora are absent (CI has both).
/// </summary>
public class FlacCorpusTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SpeechEmotion.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("SpeechEmotion.sln not found above the test folder.");
    }

    [SkippableTheory]
    [InlineData("tess", 2800)]
    [InlineData("ravdess", 1440)]
    public void EveryFileDecodesToTheSamplesFlacGives(string corpus, int expected)
    {
        string root = RepoRoot();
        string flacRoot = Path.Combine(root, "..", "shared", "data", corpus + "-flac"), wavRoot = Path.Combine(root, "data", corpus);
        Skip.IfNot(Directory.Exists(flacRoot), $"{flacRoot} is absent: the shared corpora are not beside this checkout.");
        Skip.IfNot(File.Exists(Path.Combine(wavRoot, ".verified")), $"{wavRoot} is not decoded: run ../shared/data/get-{corpus} data/{corpus} (CI does).");
        var files = Directory.GetFiles(flacRoot, "*.flac", SearchOption.AllDirectories);
        Assert.Equal(expected, files.Length);
        int stereo = 0;
        Parallel.ForEach(files, flacPath =>
        {
            string wavPath = Path.Combine(wavRoot, Path.ChangeExtension(Path.GetRelativePath(flacRoot, flacPath), ".wav"));
            byte[] flacBytes = File.ReadAllBytes(flacPath), wavBytes = File.ReadAllBytes(wavPath);
            var layout = AudioReader.Parse(wavBytes, wavPath);
            var decoder = new FlacDecoder(flacBytes, flacPath);
            try
            {
                Assert.Equal(layout.SampleRate, decoder.SampleRate);
                Assert.Equal(layout.Channels, decoder.Channels);
                Assert.Equal(layout.Bits, decoder.Bits);
                long frame = 0;
                for (int block; (block = decoder.NextFrame()) > 0; frame += block)
                    for (int c = 0; c < decoder.Channels; c++)
                        for (int i = 0; i < block; i++)
                        {
                            long expectedSample = PcmSample(wavBytes, layout, frame + i, c);
                            if (decoder.Samples[c][i] != expectedSample)
                                Assert.Fail($"{flacPath}: channel {c}, sample {frame + i:N0}: {decoder.Samples[c][i]}, flac -d gives {expectedSample}");
                        }
                Assert.Equal(layout.Frames, frame);
            }
            finally { decoder.Dispose(); }
            if (layout.Channels > 1) Interlocked.Increment(ref stereo);
            var fromFlac = AudioReader.Decode(flacBytes, flacPath);
            var fromWav = AudioReader.Decode(wavBytes, wavPath);
            Assert.Equal("FLAC", fromFlac.Container);
            Assert.True(fromFlac.Samples.AsSpan().SequenceEqual(fromWav.Samples), $"{flacPath}: the mono clip differs from the WAV's");
        });
        Assert.Equal(corpus == "ravdess" ? 5 : 0, stereo); // RAVDESS's five stereo files exercise the stereo decorrelation
    }

    private static long PcmSample(byte[] bytes, AudioReader.AudioLayout layout, long frame, int channel)
    {
        int bytesPerSample = layout.Bits / 8;
        var b = bytes.AsSpan((int)(layout.DataOffset + frame * layout.FrameBytes + channel * bytesPerSample), bytesPerSample);
        return layout.Bits switch
        {
            8 => b[0] - 128,
            16 => layout.BigEndian ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b),
            24 => ((layout.BigEndian ? (b[0] << 16) | (b[1] << 8) | b[2] : (b[2] << 16) | (b[1] << 8) | b[0]) << 8) >> 8,
            _ => layout.BigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
        };
    }
}
