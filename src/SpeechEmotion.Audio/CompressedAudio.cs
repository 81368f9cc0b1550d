namespace SpeechEmotion.Audio;

/// <summary>
/// Compressed files, decoded whole and mixed down to mono as <see cref="AudioReader"/> mixes a WAV (the mean of the
/// channels): FLAC by our <see cref="FlacDecoder"/>, MP3 by NLayer and Ogg Vorbis by NVorbis (managed decoders from
/// NuGet; neither is ours to test to the last bit, so what they throw on a broken file becomes one
/// <see cref="AudioException"/> naming the file). At most <see cref="AudioReader.MaxDecodedFrames"/> frames.
/// </summary>
internal static class CompressedAudio
{
    public static AudioClip Flac(ReadOnlySpan<byte> bytes, string name)
    {
        var flac = new FlacDecoder(bytes, name);
        try
        {
            if (flac.DeclaredFrames > AudioReader.MaxDecodedFrames) throw TooLong(name, flac.DeclaredFrames);
            var mono = new MonoBuffer(name, flac.DeclaredFrames);
            double unit = 1.0 / (1L << (flac.Bits - 1)); // PCM divided by 2^(bits−1), as for WAV
            float scale = 1f / flac.Channels;
            for (int block; (block = flac.NextFrame()) > 0;)
            {
                var target = mono.Append(block);
                for (int i = 0; i < block; i++)
                {
                    double sum = 0;
                    for (int c = 0; c < flac.Channels; c++) sum += flac.Samples[c][i] * unit;
                    target[i] = (float)(sum * scale);
                }
            }
            return new AudioClip(mono.ToArray(), flac.SampleRate, "FLAC", $"pcm{flac.Bits}", flac.Channels);
        }
        finally { flac.Dispose(); }
    }

    public static AudioClip Mp3(byte[] bytes, string name) => Decoded(name, "MP3", () =>
    {
        RefuseLoopingRiffHeader(bytes, name);
        using var mpeg = new NLayer.MpegFile(new MemoryStream(bytes, writable: false));
        return Mix(name, "MP3", "mpeg", mpeg.SampleRate, mpeg.Channels, (buffer, offset, count) => mpeg.ReadSamples(buffer, offset, count));
    });

    public static AudioClip Vorbis(byte[] bytes, string name) => Decoded(name, "Ogg", () =>
    {
        using var vorbis = new NVorbis.VorbisReader(new MemoryStream(bytes, writable: false), closeOnDispose: true);
        return Mix(name, "Ogg", "vorbis", vorbis.SampleRate, vorbis.Channels, (buffer, offset, count) => vorbis.ReadSamples(buffer, offset, count));
    });

    /// <summary>A third-party decoder's run: what it throws on a broken file becomes one AudioException naming the file.</summary>
    private static AudioClip Decoded(string name, string container, Func<AudioClip> decode)
    {
        try { return decode(); }
        catch (AudioException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new AudioException(name, $"cannot be decoded as {container}: {e.Message}");
        }
    }

    /// <summary>Interleaved float samples from a decoder's read function, mixed to mono.</summary>
    private static AudioClip Mix(string name, string container, string encoding, int rate, int channels, Func<float[], int, int, int> read)
    {
        AudioReader.CheckSampleRate(rate, name);
        if (channels is < 1 or > 255) throw new AudioException(name, $"the header says {channels} channels.");
        var mono = new MonoBuffer(name, 0);
        var buffer = new float[4096 * channels];
        float scale = 1f / channels;
        int carried = 0; // samples of a frame split across two reads
        for (int got; (got = read(buffer, carried, buffer.Length - carried)) > 0;)
        {
            int available = carried + got, frames = available / channels;
            var target = mono.Append(frames);
            for (int f = 0; f < frames; f++)
            {
                double sum = 0;
                for (int c = 0; c < channels; c++) sum += buffer[f * channels + c];
                target[f] = (float)(sum * scale);
                if (!float.IsFinite(target[f])) throw new AudioException(name, $"sample {mono.Count - frames + f:N0} is {target[f]}: the audio must be finite numbers.");
            }
            carried = available - frames * channels;
            buffer.AsSpan(frames * channels, carried).CopyTo(buffer);
        }
        return new AudioClip(mono.ToArray(), rate, container, encoding, channels);
    }

    /// <summary>
    /// NLayer 3.0.1 skips a WAV header met inside an MPEG stream ("RIFF", "WAVE" at +8, "fmt " at +12) by walking its
    /// chunks to "data", and never leaves that walk when a chunk length points past the end of the file (its read
    /// buffer waits for bytes that never come) or back to where it was (a length of −8): found by the audio fuzzer, a
    /// 107-byte file hung the decoder's constructor for ever. The same walk is done here first, every offset
    /// remembered, and a file whose walk does not reach a "data" chunk inside the file is refused.
    /// </summary>
    internal static void RefuseLoopingRiffHeader(byte[] bytes, string name)
    {
        var span = bytes.AsSpan();
        for (int at = span.IndexOf("RIFF"u8); at >= 0; at = NextAfter(span, at))
        {
            if (at + 16 > span.Length || !span.Slice(at + 8, 4).SequenceEqual("WAVE"u8) || !span.Slice(at + 12, 4).SequenceEqual("fmt "u8)) continue;
            var seen = new HashSet<int>();
            int offset = 16;
            while (true)
            {
                long lengthAt = (long)at + offset;
                if (!seen.Add(offset) || lengthAt < 0 || lengthAt + 4 > span.Length) throw Unwalkable(name);
                offset = unchecked(offset + 4 + System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(span.Slice((int)lengthAt, 4)));
                long idAt = (long)at + offset;
                if (idAt < 0 || idAt + 4 > span.Length) throw Unwalkable(name);
                offset = unchecked(offset + 4);
                if (span.Slice((int)idAt, 4).SequenceEqual("data"u8)) break;
            }
        }

        static AudioException Unwalkable(string name) =>
            new(name, "cannot be decoded as MP3: it holds a WAV header whose chunks do not lead to its data (they run past the end of the file or in a circle).");

        static int NextAfter(ReadOnlySpan<byte> span, int at)
        {
            int next = span[(at + 1)..].IndexOf("RIFF"u8);
            return next < 0 ? -1 : at + 1 + next;
        }
    }

    private static AudioException TooLong(string name, long frames) =>
        new(name, $"decodes to over {frames:N0} samples, more than the {AudioReader.MaxDecodedFrames:N0} a compressed file may hold (convert a recording this long to WAV, which is streamed).");

    /// <summary>A growing array of mono samples, bounded by <see cref="AudioReader.MaxDecodedFrames"/>.</summary>
    private sealed class MonoBuffer(string name, long expected)
    {
        private float[] _samples = new float[expected > 0 ? expected : 1 << 16];

        public long Count { get; private set; }

        public Span<float> Append(int frames)
        {
            long needed = Count + frames;
            if (needed > AudioReader.MaxDecodedFrames) throw TooLong(name, needed);
            if (needed > _samples.Length) Array.Resize(ref _samples, (int)Math.Min(AudioReader.MaxDecodedFrames, Math.Max(2L * _samples.Length, needed)));
            var span = _samples.AsSpan((int)Count, frames);
            Count = needed;
            return span;
        }

        public float[] ToArray()
        {
            if (Count == 0) throw new AudioException(name, "zero samples: the file holds no audio.");
            if (Count < _samples.Length) Array.Resize(ref _samples, (int)Count);
            return _samples;
        }
    }
}
