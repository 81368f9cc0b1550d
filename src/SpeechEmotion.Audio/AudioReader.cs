using System.Buffers.Binary;
using System.Text;

namespace SpeechEmotion.Audio;

/// <summary>
/// Reads WAV (RIFF/WAVE: PCM 8/16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE, chunks in any order),
/// AIFF/AIFC (big-endian PCM, 'sowt', float), FLAC, MP3 and Ogg Vorbis (<see cref="CompressedAudio"/>), recognised by
/// their header whatever the file is called, and
/// mixes every channel down to mono by averaging. We parse the containers ourselves rather than through NWaves'
/// WaveFile, which wants 'fmt ' before 'data', has no AIFF, 64-bit float or extensible support, and reports
/// problems without the file's name. Anything we cannot read fully and exactly is an <see cref="AudioException"/>.
/// </summary>
public static class AudioReader
{
    /// <summary>Bytes 2–15 of every KSDATAFORMAT_SUBTYPE GUID (PCM, IEEE float, …): 0000-0010-8000-00AA00389B71.</summary>
    private static readonly byte[] ExtensibleGuidTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    /// <summary>The file name extensions a folder walk takes as audio (the format itself is told by the header).</summary>
    public static readonly IReadOnlyList<string> Extensions = [".wav", ".wave", ".aif", ".aiff", ".aifc", ".flac", ".mp3", ".ogg", ".oga"];

    /// <summary>Default size limit: 512 MiB, far above any speech clip, well below what would exhaust memory.</summary>
    public const long DefaultMaxBytes = 512L << 20;

    /// <summary>Sample rates accepted, in Hz.</summary>
    public const int MinSampleRate = 1_000, MaxSampleRate = 1_000_000;

    public static AudioClip Read(string path, long maxBytes = DefaultMaxBytes)
    {
        FileInfo info = new(path);
        if (!info.Exists) throw new AudioException(path, Directory.Exists(path) ? "is a folder, not an audio file." : "file not found.");
        if (info.Length > maxBytes) throw new AudioException(path, $"file is {info.Length:N0} bytes, over the limit of {maxBytes:N0} bytes.");
        // A pipe or device reports length 0 too, and reading one would wait for ever: refused unread.
        if (info.Length == 0) throw new AudioException(path, "is empty (0 bytes) or not a regular file (a pipe or a device): nothing to read.");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AudioException(path, $"cannot be read: {e.Message}"); }
        return Decode(bytes, path);
    }

    /// <summary>
    /// The most samples (per channel) a compressed file may decode to: 2²⁸, about 1.5 hours at 48 kHz, 1 GiB of mono
    /// floats. Compressed files are decoded whole; a WAV or AIFF this long is streamed instead (<see cref="AudioStream"/>).
    /// </summary>
    public const long MaxDecodedFrames = 1L << 28;

    public static AudioClip Decode(ReadOnlySpan<byte> bytes, string name) => Decode(bytes, null, name);

    /// <summary>As <see cref="Decode(ReadOnlySpan{byte}, string)"/>, for a file already in an array: MP3 and Ogg are
    /// decoded from it in place (their decoders read a stream) instead of from a copy.</summary>
    public static AudioClip Decode(byte[] bytes, string name) => Decode(bytes, bytes, name);

    private static AudioClip Decode(ReadOnlySpan<byte> bytes, byte[]? array, string name)
    {
        switch (Sniff(bytes))
        {
            case Compression.Flac: return CompressedAudio.Flac(bytes, name);
            case Compression.Mp3: return CompressedAudio.Mp3(array ?? bytes.ToArray(), name);
            case Compression.Vorbis: return CompressedAudio.Vorbis(array ?? bytes.ToArray(), name);
        }
        var layout = Parse(bytes, name);
        var mono = new float[layout.Frames];
        DecodeFrames(layout, bytes.Slice((int)layout.DataOffset, (int)(layout.Frames * layout.FrameBytes)), mono, 0, name);
        return new AudioClip(mono, layout.SampleRate, layout.Container, layout.Encoding, layout.Channels);
    }

    internal enum Compression { None, Flac, Mp3, Vorbis }

    /// <summary>Which compressed format a file's first bytes announce (after an ID3v2 tag, which MP3 and some FLAC files carry).</summary>
    internal static Compression Sniff(ReadOnlySpan<byte> bytes)
    {
        int start = Id3Length(bytes);
        var head = bytes[start..];
        if (head.StartsWith("fLaC"u8)) return Compression.Flac;
        if (head.StartsWith("OggS"u8)) return Compression.Vorbis;
        if (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0) return Compression.Mp3;
        return start > 0 ? Compression.Mp3 : Compression.None;
    }

    /// <summary>Bytes of an ID3v2 tag at the start of a file (header, a size in 7-bit bytes, a footer if flagged); 0 without one.</summary>
    internal static int Id3Length(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 10 || !bytes.StartsWith("ID3"u8)) return 0;
        long size = ((bytes[6] & 0x7F) << 21) | ((bytes[7] & 0x7F) << 14) | ((bytes[8] & 0x7F) << 7) | (bytes[9] & 0x7F);
        return (int)Math.Min(10 + size + ((bytes[5] & 0x10) != 0 ? 10 : 0), bytes.Length);
    }

    /// <summary>The header of a whole file in memory: where its samples are and how they are encoded, every field checked.</summary>
    internal static AudioLayout Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 12) throw new AudioException(name, $"truncated header: {bytes.Length} bytes, too short for any audio file.");
        string magic = Encoding.ASCII.GetString(bytes[..4]), form = Encoding.ASCII.GetString(bytes.Slice(8, 4));
        if (magic == "RIFF" && form == "WAVE") return ReadWave(bytes, name);
        if (magic == "FORM" && (form == "AIFF" || form == "AIFC")) return ReadAiff(bytes, name, form == "AIFC");
        if (magic == "RIFF") throw new AudioException(name, $"a RIFF file of type '{Printable(form)}', not WAVE.");
        throw new AudioException(name, $"not a WAV, AIFF, FLAC, MP3 or Ogg Vorbis file: it starts with '{Printable(magic)}'.");
    }

    private static string Printable(string text) => new(text.Select(c => c >= ' ' && c < 127 ? c : '?').ToArray());

    internal enum SampleKind { UnsignedPcm, SignedPcm, Float }

    /// <summary>Where a file's samples are (byte offset and frame count) and how they are encoded.</summary>
    internal sealed record AudioLayout(string Container, string Encoding, SampleKind Kind, int Bits, int Channels, int SampleRate,
        int FrameBytes, bool BigEndian, long DataOffset, long Frames);

    /// <summary>
    /// Walks the chunks after a RIFF or IFF (AIFF) header: 4-byte id, 4-byte size in the container's byte order,
    /// data padded to an even length. A chunk running past the end of the file ends the walk (a trailing chunk
    /// cut short after the audio is harmless; callers check what they found). Position stops at a chunk header
    /// the file cuts short.
    /// </summary>
    private ref struct Chunks
    {
        private readonly ReadOnlySpan<byte> _bytes;
        private readonly bool _bigEndian;

        public Chunks(ReadOnlySpan<byte> bytes, bool bigEndian) { _bytes = bytes; _bigEndian = bigEndian; Position = 12; Id = ""; }

        public int Position { get; private set; }
        public string Id { get; private set; }
        public uint Size { get; private set; }
        public int Body { get; private set; }
        public long Available { get; private set; }

        public bool MoveNext()
        {
            if (Position + 8 > _bytes.Length) return false;
            Id = Encoding.ASCII.GetString(_bytes.Slice(Position, 4));
            var sizeBytes = _bytes.Slice(Position + 4, 4);
            Size = _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(sizeBytes) : BinaryPrimitives.ReadUInt32LittleEndian(sizeBytes);
            Body = Position + 8;
            Available = _bytes.Length - Body;
            Position = (int)Math.Min(Body + (long)Size + (Size & 1), _bytes.Length);
            return true;
        }
    }

    private static AudioLayout ReadWave(ReadOnlySpan<byte> bytes, string name)
    {
        int formatTag = -1, channels = 0, bits = 0, blockAlign = 0;
        long sampleRate = 0;
        int dataOffset = -1, dataLength = 0;
        var chunks = new Chunks(bytes, bigEndian: false);
        while (chunks.MoveNext())
        {
            var (id, size, body, available) = (chunks.Id, chunks.Size, chunks.Body, chunks.Available);
            if (id == "fmt ")
            {
                if (size < 16 || available < 16) throw new AudioException(name, $"truncated header: the 'fmt ' chunk has {Math.Min(size, available)} bytes, needs at least 16.");
                var fmt = bytes.Slice(body, 16);
                formatTag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
                sampleRate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
                if (formatTag == 0xFFFE)
                {
                    if (size < 40 || available < 40) throw new AudioException(name, "truncated header: WAVE_FORMAT_EXTENSIBLE needs a 40-byte 'fmt ' chunk.");
                    // The sub-format GUID is {tag}-0000-0010-8000-00AA00389B71 (KSDATAFORMAT_SUBTYPE_*): the whole GUID is checked.
                    var guid = bytes.Slice(body + 24, 16);
                    if (!guid[2..].SequenceEqual(ExtensibleGuidTail))
                        throw new AudioException(name, $"unsupported WAVE_FORMAT_EXTENSIBLE sub-format {Convert.ToHexString(guid)}; only PCM and IEEE float WAV can be read.");
                    formatTag = BinaryPrimitives.ReadUInt16LittleEndian(guid);
                }
            }
            else if (id == "data")
            {
                if (dataOffset >= 0) throw new AudioException(name, "two 'data' chunks: which one holds the audio is ambiguous.");
                if (size > available)
                    throw new AudioException(name, $"truncated data: the 'data' chunk claims {size:N0} bytes but only {available:N0} remain in the file.");
                dataOffset = body;
                dataLength = (int)size;
            }
        }
        if (formatTag < 0 && chunks.Position < bytes.Length)
            throw new AudioException(name, $"truncated header: a chunk header is cut short at byte {chunks.Position} of {bytes.Length}.");
        if (formatTag < 0) throw new AudioException(name, "no 'fmt ' chunk: the file does not say how its samples are encoded.");
        if (dataOffset < 0) throw new AudioException(name, "no 'data' chunk: the file holds no audio (truncated?).");
        var kind = formatTag switch
        {
            1 => bits == 8 ? SampleKind.UnsignedPcm : SampleKind.SignedPcm,
            3 => SampleKind.Float,
            _ => throw new AudioException(name, $"unsupported codec {CodecName(formatTag)} (format tag 0x{formatTag:X4}); only PCM and IEEE float WAV can be read."),
        };
        string encoding = kind == SampleKind.Float ? $"float{bits}" : $"pcm{bits}";
        return Layout(name, "WAV", encoding, dataOffset, dataLength, kind, bits, channels, sampleRate, blockAlign, bigEndian: false);
    }

    private static string CodecName(int tag) => tag switch
    {
        2 => "Microsoft ADPCM",
        6 => "A-law",
        7 => "µ-law",
        0x11 => "IMA ADPCM",
        0x50 => "MPEG",
        0x55 => "MP3",
        0x161 or 0x162 => "WMA",
        0xFF => "AAC",
        _ => "unknown",
    };

    private static AudioLayout ReadAiff(ReadOnlySpan<byte> bytes, string name, bool compressed)
    {
        int channels = 0, bits = 0;
        long frames = -1;
        double sampleRate = 0;
        var kind = SampleKind.SignedPcm;
        bool bigEndian = true;
        string encoding = "pcm";
        int dataOffset = -1, dataLength = 0;
        var chunks = new Chunks(bytes, bigEndian: true);
        while (chunks.MoveNext())
        {
            var (id, size, body, available) = (chunks.Id, chunks.Size, chunks.Body, chunks.Available);
            if (id == "COMM")
            {
                if (size < 18 || available < 18) throw new AudioException(name, "truncated header: the AIFF 'COMM' chunk is shorter than 18 bytes.");
                channels = BinaryPrimitives.ReadInt16BigEndian(bytes.Slice(body, 2));
                frames = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(body + 2, 4));
                bits = BinaryPrimitives.ReadInt16BigEndian(bytes.Slice(body + 6, 2));
                sampleRate = ReadExtended(bytes.Slice(body + 8, 10));
                if (compressed)
                {
                    if (size < 22 || available < 22) throw new AudioException(name, "truncated header: the AIFC 'COMM' chunk lacks its compression type.");
                    string type = Encoding.ASCII.GetString(bytes.Slice(body + 18, 4));
                    (kind, bigEndian) = type switch
                    {
                        "NONE" or "twos" => (SampleKind.SignedPcm, true),
                        "sowt" => (SampleKind.SignedPcm, false),
                        "fl32" or "FL32" or "fl64" or "FL64" => (SampleKind.Float, true),
                        _ => throw new AudioException(name, $"unsupported AIFC compression '{Printable(type)}'; only uncompressed PCM and float can be read."),
                    };
                }
            }
            else if (id == "SSND")
            {
                if (size < 8 || available < 8) throw new AudioException(name, "truncated header: the AIFF 'SSND' chunk is shorter than 8 bytes.");
                if (size > available) throw new AudioException(name, $"truncated data: the 'SSND' chunk claims {size:N0} bytes but only {available:N0} remain in the file.");
                uint offset = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(body, 4));
                if (offset > size - 8) throw new AudioException(name, $"'SSND' data offset {offset} lies beyond the chunk.");
                dataOffset = body + 8 + (int)offset;
                dataLength = (int)(size - 8 - offset);
            }
        }
        if (frames < 0) throw new AudioException(name, "no AIFF 'COMM' chunk: the file does not say how its samples are encoded.");
        if (dataOffset < 0) throw new AudioException(name, "no AIFF 'SSND' chunk: the file holds no audio (truncated?).");
        if (sampleRate < 1 || sampleRate > int.MaxValue || double.IsNaN(sampleRate))
            throw new AudioException(name, $"absurd sample rate {sampleRate} Hz in the header.");
        if (channels <= 0) throw new AudioException(name, $"the header says {channels} channels.");
        if (bits is <= 0 or > 64) throw new AudioException(name, $"the header says {bits} bits per sample.");
        int bytesPerSample = (bits + 7) / 8;
        long needed = frames * channels * bytesPerSample;
        if (needed > dataLength) throw new AudioException(name, $"truncated data: 'COMM' promises {frames:N0} frames ({needed:N0} bytes) but 'SSND' holds {dataLength:N0} bytes.");
        encoding = kind == SampleKind.Float ? $"float{bits}" : $"pcm{bits}";
        return Layout(name, "AIFF", encoding, dataOffset, (int)needed, kind, bits, channels,
            (long)Math.Round(sampleRate), channels * bytesPerSample, bigEndian);
    }

    /// <summary>The 80-bit IEEE 754 extended float AIFF stores its sample rate in.</summary>
    private static double ReadExtended(ReadOnlySpan<byte> bytes)
    {
        int exponent = ((bytes[0] & 0x7F) << 8) | bytes[1];
        ulong mantissa = BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
        if (exponent == 0 && mantissa == 0) return 0;
        double value = mantissa * Math.Pow(2, exponent - 16383 - 63);
        return (bytes[0] & 0x80) != 0 ? -value : value;
    }

    /// <summary>A header's sample rate within <see cref="MinSampleRate"/>…<see cref="MaxSampleRate"/>, whatever the format.</summary>
    internal static void CheckSampleRate(long sampleRate, string name)
    {
        if (sampleRate < MinSampleRate || sampleRate > MaxSampleRate)
            throw new AudioException(name, $"sample rate {sampleRate:N0} Hz in the header is outside {MinSampleRate:N0}…{MaxSampleRate:N0} Hz.");
    }

    private static AudioLayout Layout(string name, string container, string encoding, int dataOffset, int dataLength, SampleKind kind,
        int bits, int channels, long sampleRate, int blockAlign, bool bigEndian)
    {
        if (channels <= 0) throw new AudioException(name, $"the header says {channels} channels.");
        // Below 1 kHz no speech is left to hear, and resampling from such a rate would build filters of gigabytes (a
        // 44 KB file declaring 1 Hz once took 8.7 GB); above 1 MHz is no audio format in use.
        CheckSampleRate(sampleRate, name);
        bool supported = kind switch
        {
            SampleKind.UnsignedPcm => bits == 8,
            SampleKind.SignedPcm => bits is 8 or 16 or 24 or 32,
            _ => bits is 32 or 64,
        };
        if (!supported) throw new AudioException(name, $"unsupported sample format: {bits}-bit {(kind == SampleKind.Float ? "float" : "PCM")}.");
        int bytesPerSample = bits / 8;
        int frameBytes = channels * bytesPerSample;
        if (blockAlign != frameBytes) throw new AudioException(name, $"inconsistent header: block align {blockAlign} for {channels} channel(s) of {bits} bits (expected {frameBytes}).");
        if (dataLength % frameBytes != 0)
            throw new AudioException(name, $"truncated data: {dataLength:N0} bytes is not a whole number of {frameBytes}-byte frames.");
        int frames = dataLength / frameBytes;
        if (frames == 0) throw new AudioException(name, "zero samples: the file holds no audio.");
        return new AudioLayout(container, encoding, kind, bits, channels, (int)sampleRate, frameBytes, bigEndian, dataOffset, frames);
    }

    /// <summary>
    /// Whole frames of <paramref name="data"/> mixed down to mono (the mean of the channels) into <paramref name="mono"/>;
    /// <paramref name="firstFrame"/> is the first one's index in the file, for messages.
    /// </summary>
    internal static void DecodeFrames(AudioLayout layout, ReadOnlySpan<byte> data, Span<float> mono, long firstFrame, string name)
    {
        int frameBytes = layout.FrameBytes, bytesPerSample = layout.Bits / 8, channels = layout.Channels;
        float scale = 1f / channels;
        for (int f = 0; f < data.Length / frameBytes; f++)
        {
            double sum = 0;
            for (int c = 0; c < channels; c++) sum += Sample(data.Slice(f * frameBytes + c * bytesPerSample, bytesPerSample), layout.Kind, layout.Bits, layout.BigEndian);
            mono[f] = (float)(sum * scale);
            // Float formats can hold NaN or infinity (PCM cannot): no feature, probability or JSON survives one.
            if (!float.IsFinite(mono[f])) throw new AudioException(name, $"sample {firstFrame + f:N0} is {mono[f]}: the audio must be finite numbers.");
        }
    }

    /// <summary>One sample scaled to [-1, 1) as librosa/soundfile do: PCM divided by 2^(bits−1).</summary>
    private static double Sample(ReadOnlySpan<byte> b, SampleKind kind, int bits, bool bigEndian)
    {
        switch (kind)
        {
            case SampleKind.UnsignedPcm: return (b[0] - 128) / 128.0;
            case SampleKind.Float:
                return bits == 32
                    ? (bigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b))
                    : (bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b));
        }
        switch (bits)
        {
            case 8: return (sbyte)b[0] / 128.0;
            case 16: return (bigEndian ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b)) / 32768.0;
            case 24:
                int v = bigEndian ? (b[0] << 16) | (b[1] << 8) | b[2] : (b[2] << 16) | (b[1] << 8) | b[0];
                if ((v & 0x800000) != 0) v |= unchecked((int)0xFF000000);
                return v / 8388608.0;
            default: return (bigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b)) / 2147483648.0;
        }
    }
}
