using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace SpeechEmotion.Audio;

/// <summary>
/// A FLAC decoder (RFC 9639) of our own: no managed FLAC decoder is on NuGet here, and the format is small. The
/// STREAMINFO block, then frames: a header (CRC-8 checked), one subframe per channel (constant, verbatim, fixed
/// prediction of order 0–4 or LPC of order 1–32, Rice-coded residuals with escape partitions, wasted bits), stereo
/// decorrelation (left/side, side/right, mid/side) and a CRC-16 over the frame. When STREAMINFO carries the MD5 of the
/// samples, the decoded samples are checked against it, as <c>flac -t</c> does. Every length and value a file
/// declares is checked before it is used; anything wrong is an <see cref="AudioException"/> naming the file.
/// Proven on the 4,240 files of the shared corpora (FlacCorpusTests: the samples <c>flac -d</c> gives, every one).
/// </summary>
internal ref struct FlacDecoder
{
    public const int MaxBlockSize = 65_535;

    private readonly ReadOnlySpan<byte> _bytes;
    private readonly string _name;
    private readonly long[][] _channels;
    private readonly byte[] _md5Buffer;
    private readonly IncrementalHash? _md5;
    private readonly byte[] _expectedMd5;
    private long _bit; // read position in bits
    private long _decoded;

    public int SampleRate { get; }
    public int Channels { get; }
    public int Bits { get; }
    /// <summary>Frames (samples per channel) STREAMINFO declares; 0 when the encoder did not know.</summary>
    public long DeclaredFrames { get; }

    /// <summary>The samples of the last frame read, per channel (the first <c>blockSize</c> of each), as integers.</summary>
    public readonly long[][] Samples => _channels;

    public FlacDecoder(ReadOnlySpan<byte> bytes, string name)
    {
        _bytes = bytes; _name = name;
        int start = AudioReader.Id3Length(bytes);
        if (bytes.Length < start + 4 + 4 + 34 || !bytes.Slice(start, 4).SequenceEqual("fLaC"u8))
            throw new AudioException(name, "truncated FLAC header: too short for its STREAMINFO block.");
        _bit = (start + 4) * 8L;
        bool last = ReadBits(1) == 1;
        int type = (int)ReadBits(7), length = (int)ReadBits(24);
        if (type != 0 || length < 34) throw new AudioException(name, $"the FLAC file's first metadata block is of type {type} and {length} bytes, not a 34-byte STREAMINFO.");
        long infoEnd = _bit + length * 8L;
        int minBlock = (int)ReadBits(16), maxBlock = (int)ReadBits(16);
        ReadBits(24); ReadBits(24); // frame sizes: hints only
        SampleRate = (int)ReadBits(20);
        Channels = (int)ReadBits(3) + 1;
        Bits = (int)ReadBits(5) + 1;
        DeclaredFrames = (long)ReadLong(36);
        _expectedMd5 = _bytes.Slice((int)(_bit / 8), 16).ToArray();
        AudioReader.CheckSampleRate(SampleRate, name);
        if (Bits < 4) throw new AudioException(name, $"the FLAC header says {Bits} bits per sample (at least 4).");
        if (maxBlock < 16 || minBlock > maxBlock) throw new AudioException(name, $"the FLAC header's block sizes {minBlock}…{maxBlock} are impossible.");
        _bit = infoEnd;
        while (!last) // the other metadata blocks (seek table, tags, pictures, a WAV's foreign chunks) are skipped
        {
            if (_bit / 8 + 4 > _bytes.Length) throw new AudioException(name, "truncated FLAC header: a metadata block is cut short.");
            last = ReadBits(1) == 1;
            type = (int)ReadBits(7);
            length = (int)ReadBits(24);
            if (type == 127) throw new AudioException(name, "invalid FLAC metadata block type 127.");
            _bit += length * 8L;
            if (_bit > _bytes.Length * 8L) throw new AudioException(name, $"truncated FLAC header: a metadata block of {length:N0} bytes runs past the end of the file.");
        }
        _channels = new long[Channels][];
        for (int c = 0; c < Channels; c++) _channels[c] = new long[maxBlock];
        bool hasMd5 = _expectedMd5.AsSpan().IndexOfAnyExcept((byte)0) >= 0;
        _md5 = hasMd5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        _md5Buffer = hasMd5 ? new byte[maxBlock * Channels * ((Bits + 7) / 8)] : [];
    }

    public readonly void Dispose() => _md5?.Dispose();

    /// <summary>
    /// Decodes the next frame into <see cref="Samples"/>; its block size, or 0 at the end of the stream (where the
    /// declared length and the MD5 are checked).
    /// </summary>
    public int NextFrame()
    {
        if (_bit / 8 >= _bytes.Length || (DeclaredFrames > 0 && _decoded >= DeclaredFrames && !HasSync()))
        {
            Finish();
            return 0;
        }
        long frameStart = _bit / 8;
        if (!HasSync()) throw Corrupt($"no frame sync code at byte {frameStart:N0}");
        ReadBits(15);
        ReadBits(1); // blocking strategy: fixed or variable, both decoded alike
        int sizeCode = (int)ReadBits(4), rateCode = (int)ReadBits(4), channelCode = (int)ReadBits(4), bitsCode = (int)ReadBits(3);
        if (ReadBits(1) != 0) throw Corrupt($"reserved bit set in the frame header at byte {frameStart:N0}");
        SkipCodedNumber(frameStart);
        int blockSize = sizeCode switch
        {
            0 => throw Corrupt($"reserved block size in the frame header at byte {frameStart:N0}"),
            1 => 192,
            <= 5 => 576 << (sizeCode - 2),
            6 => (int)ReadBits(8) + 1,
            7 => (int)ReadBits(16) + 1,
            _ => 256 << (sizeCode - 8),
        };
        int rate = rateCode switch
        {
            0 => SampleRate,
            1 => 88_200, 2 => 176_400, 3 => 192_000, 4 => 8_000, 5 => 16_000, 6 => 22_050, 7 => 24_000,
            8 => 32_000, 9 => 44_100, 10 => 48_000, 11 => 96_000,
            12 => (int)ReadBits(8) * 1000,
            13 => (int)ReadBits(16),
            14 => (int)ReadBits(16) * 10,
            _ => throw Corrupt($"invalid sample rate code in the frame header at byte {frameStart:N0}"),
        };
        int bits = bitsCode switch
        {
            0 => Bits, 1 => 8, 2 => 12, 4 => 16, 5 => 20, 6 => 24, 7 => 32,
            _ => throw Corrupt($"reserved sample size in the frame header at byte {frameStart:N0}"),
        };
        int crc8 = (int)ReadBits(8);
        if (Crc8(_bytes[(int)frameStart..(int)(_bit / 8 - 1)]) != crc8) throw Corrupt($"the frame header at byte {frameStart:N0} fails its CRC-8");
        if (rate != SampleRate || bits != Bits)
            throw Corrupt($"the frame at byte {frameStart:N0} says {rate:N0} Hz, {bits}-bit where the stream is {SampleRate:N0} Hz, {Bits}-bit");
        if (blockSize > _channels[0].Length)
            throw Corrupt($"the frame at byte {frameStart:N0} holds {blockSize:N0} samples, more than the {_channels[0].Length:N0} STREAMINFO allows");
        int channels = channelCode <= 7 ? channelCode + 1 : channelCode <= 10 ? 2 : throw Corrupt($"reserved channel assignment in the frame at byte {frameStart:N0}");
        if (channels != Channels) throw Corrupt($"the frame at byte {frameStart:N0} has {channels} channel(s) where the stream has {Channels}");

        for (int c = 0; c < channels; c++)
        {
            bool side = (channelCode == 8 && c == 1) || (channelCode == 9 && c == 0) || (channelCode == 10 && c == 1);
            Subframe(_channels[c].AsSpan(0, blockSize), bits + (side ? 1 : 0), frameStart);
        }
        Decorrelate(channelCode, blockSize);

        _bit = (_bit + 7) & ~7L; // zero padding to a byte
        int crc16 = (int)ReadBits(16);
        if (Crc16(_bytes[(int)frameStart..(int)(_bit / 8 - 2)]) != crc16) throw Corrupt($"the frame at byte {frameStart:N0} fails its CRC-16");
        long limit = 1L << (Bits - 1);
        for (int c = 0; c < channels; c++)
            foreach (long s in _channels[c].AsSpan(0, blockSize))
                if (s < -limit || s >= limit) throw Corrupt($"a sample of the frame at byte {frameStart:N0} does not fit {Bits} bits");
        if (_md5 is not null) HashFrame(blockSize);
        _decoded += blockSize;
        return blockSize;
    }

    private void Finish()
    {
        if (DeclaredFrames > 0 && _decoded != DeclaredFrames)
            throw new AudioException(_name, _decoded < DeclaredFrames
                ? $"truncated FLAC data: {_decoded:N0} of the {DeclaredFrames:N0} samples declared."
                : $"corrupt FLAC data: {_decoded:N0} samples where {DeclaredFrames:N0} are declared.");
        if (_md5 is not null && !_md5.GetHashAndReset().AsSpan().SequenceEqual(_expectedMd5))
            throw new AudioException(_name, "corrupt FLAC data: the decoded samples do not match the MD5 checksum in its header.");
    }

    private readonly bool HasSync()
    {
        long b = _bit / 8;
        return _bit % 8 == 0 && b + 2 <= _bytes.Length && _bytes[(int)b] == 0xFF && (_bytes[(int)b + 1] & 0xFE) == 0xF8;
    }

    private readonly AudioException Corrupt(string what) => new(_name, $"corrupt FLAC data: {what}.");

    /// <summary>The frame or sample number, coded like UTF-8 over up to 7 bytes: checked for shape, not used.</summary>
    private void SkipCodedNumber(long frameStart)
    {
        uint first = ReadBits(8);
        int extra = first < 0x80 ? 0 : first < 0xC0 ? -1 : first < 0xE0 ? 1 : first < 0xF0 ? 2 : first < 0xF8 ? 3 : first < 0xFC ? 4 : first < 0xFE ? 5 : first == 0xFE ? 6 : -1;
        if (extra < 0) throw Corrupt($"malformed frame number in the frame header at byte {frameStart:N0}");
        for (int i = 0; i < extra; i++)
            if ((ReadBits(8) & 0xC0) != 0x80) throw Corrupt($"malformed frame number in the frame header at byte {frameStart:N0}");
    }

    private void Subframe(Span<long> output, int bits, long frameStart)
    {
        if (ReadBits(1) != 0) throw Corrupt($"a subframe's padding bit is set in the frame at byte {frameStart:N0}");
        int type = (int)ReadBits(6);
        int wasted = 0;
        if (ReadBits(1) == 1)
        {
            wasted = ReadUnary() + 1;
            if (wasted >= bits) throw Corrupt($"a subframe wastes {wasted} of its {bits} bits in the frame at byte {frameStart:N0}");
            bits -= wasted;
        }
        if (type == 0) output.Fill(ReadSigned(bits));
        else if (type == 1) { for (int i = 0; i < output.Length; i++) output[i] = ReadSigned(bits); }
        else if (type is >= 8 and <= 12)
        {
            int order = type - 8;
            if (order > output.Length) throw Corrupt($"fixed predictor of order {order} for {output.Length} samples in the frame at byte {frameStart:N0}");
            for (int i = 0; i < order; i++) output[i] = ReadSigned(bits);
            Residual(output, order, frameStart);
            FixedPredict(output, order);
        }
        else if (type >= 32)
        {
            int order = type - 31;
            if (order > output.Length) throw Corrupt($"LPC of order {order} for {output.Length} samples in the frame at byte {frameStart:N0}");
            for (int i = 0; i < order; i++) output[i] = ReadSigned(bits);
            int precision = (int)ReadBits(4) + 1;
            if (precision == 16) throw Corrupt($"invalid LPC precision in the frame at byte {frameStart:N0}");
            int shift = (int)ReadSigned(5);
            if (shift < 0) throw Corrupt($"negative LPC shift in the frame at byte {frameStart:N0}");
            Span<long> coefficients = stackalloc long[order];
            for (int i = 0; i < order; i++) coefficients[i] = ReadSigned(precision);
            Residual(output, order, frameStart);
            for (int i = order; i < output.Length; i++)
            {
                long sum = 0;
                for (int j = 0; j < order; j++) sum += coefficients[j] * output[i - 1 - j];
                output[i] += sum >> shift;
            }
        }
        else throw Corrupt($"reserved subframe type {type} in the frame at byte {frameStart:N0}");
        if (wasted > 0) for (int i = 0; i < output.Length; i++) output[i] <<= wasted;
    }

    /// <summary>The residual after <paramref name="order"/> warm-up samples, written into <paramref name="output"/> from there on.</summary>
    private void Residual(Span<long> output, int order, long frameStart)
    {
        int method = (int)ReadBits(2);
        if (method > 1) throw Corrupt($"reserved residual coding method in the frame at byte {frameStart:N0}");
        int parameterBits = method == 0 ? 4 : 5, escape = (1 << parameterBits) - 1;
        int partitionOrder = (int)ReadBits(4);
        int blockSize = output.Length, perPartition = blockSize >> partitionOrder;
        if ((perPartition << partitionOrder) != blockSize || perPartition < order)
            throw Corrupt($"residual partition order {partitionOrder} does not fit {blockSize} samples in the frame at byte {frameStart:N0}");
        int i = order;
        for (int p = 0; p < 1 << partitionOrder; p++)
        {
            int end = (p + 1) * perPartition;
            int parameter = (int)ReadBits(parameterBits);
            if (parameter == escape)
            {
                int bits = (int)ReadBits(5);
                for (; i < end; i++) output[i] = bits == 0 ? 0 : ReadSigned(bits);
            }
            else
                for (; i < end; i++)
                {
                    ulong folded = ((ulong)(uint)ReadUnary() << parameter) | ReadBits(parameter);
                    if (folded > uint.MaxValue) throw Corrupt($"a residual overflows 32 bits in the frame at byte {frameStart:N0}");
                    output[i] = (long)(folded >> 1) ^ -(long)(folded & 1);
                }
        }
    }

    private static void FixedPredict(Span<long> s, int order)
    {
        for (int i = order; i < s.Length; i++)
            s[i] += order switch
            {
                0 => 0,
                1 => s[i - 1],
                2 => 2 * s[i - 1] - s[i - 2],
                3 => 3 * s[i - 1] - 3 * s[i - 2] + s[i - 3],
                _ => 4 * s[i - 1] - 6 * s[i - 2] + 4 * s[i - 3] - s[i - 4],
            };
    }

    private readonly void Decorrelate(int channelCode, int blockSize)
    {
        if (channelCode < 8) return;
        Span<long> a = _channels[0].AsSpan(0, blockSize), b = _channels[1].AsSpan(0, blockSize);
        for (int i = 0; i < blockSize; i++)
        {
            switch (channelCode)
            {
                case 8: b[i] = a[i] - b[i]; break;   // left, side → left, right
                case 9: a[i] += b[i]; break;         // side, right → left, right
                default:                             // mid, side → left, right
                    long mid = (a[i] << 1) | (b[i] & 1), side = b[i];
                    a[i] = (mid + side) >> 1;
                    b[i] = (mid - side) >> 1;
                    break;
            }
        }
    }

    /// <summary>The frame's samples as the MD5 sees them: interleaved, little-endian, in whole bytes.</summary>
    private readonly void HashFrame(int blockSize)
    {
        int bytesPerSample = (Bits + 7) / 8, n = 0;
        for (int i = 0; i < blockSize; i++)
            for (int c = 0; c < Channels; c++)
            {
                long s = _channels[c][i];
                for (int k = 0; k < bytesPerSample; k++) _md5Buffer[n++] = (byte)(s >> (8 * k));
            }
        _md5!.AppendData(_md5Buffer, 0, n);
    }

    // ---- bits, most significant first ----

    private readonly ulong Peek64()
    {
        int b = (int)(_bit >> 3);
        ulong word;
        if (b + 8 <= _bytes.Length) word = BinaryPrimitives.ReadUInt64BigEndian(_bytes[b..]);
        else
        {
            word = 0;
            for (int k = 0; k < 8; k++) word = (word << 8) | (b + k < _bytes.Length ? _bytes[b + k] : 0u);
        }
        return word << (int)(_bit & 7);
    }

    private uint ReadBits(int n)
    {
        if (n == 0) return 0;
        if (_bit + n > _bytes.Length * 8L) throw Truncated();
        uint value = (uint)(Peek64() >> (64 - n));
        _bit += n;
        return value;
    }

    private ulong ReadLong(int n) => n <= 32 ? ReadBits(n) : ((ulong)ReadBits(n - 32) << 32) | ReadBits(32);

    private long ReadSigned(int n)
    {
        ulong raw = ReadLong(n);
        return (long)(raw << (64 - n)) >> (64 - n);
    }

    /// <summary>Zeros up to the next one bit (which is consumed): their count.</summary>
    private int ReadUnary()
    {
        long count = 0;
        while (true)
        {
            int available = 64 - (int)(_bit & 7);
            ulong word = Peek64();
            int zeros = word == 0 ? 64 : BitOperations.LeadingZeroCount(word);
            if (zeros < available)
            {
                _bit += zeros + 1;
                if (_bit > _bytes.Length * 8L) throw Truncated();
                return (int)(count + zeros);
            }
            count += available;
            _bit += available;
            if (_bit > _bytes.Length * 8L) throw Truncated();
            if (count > int.MaxValue) throw Corrupt("a unary code runs over 2³¹ bits");
        }
    }

    private readonly AudioException Truncated() => new(_name, $"truncated FLAC data: the file ends inside a frame ({_bytes.Length:N0} bytes).");

    // ---- checksums: CRC-8 (polynomial 0x07) over a frame header, CRC-16 (0x8005) over a frame ----

    private static readonly byte[] Crc8Table = BuildTable(0x07, 8).Select(v => (byte)v).ToArray();
    private static readonly ushort[] Crc16Table = BuildTable(0x8005, 16).Select(v => (ushort)v).ToArray();

    private static int[] BuildTable(int polynomial, int width)
    {
        var table = new int[256];
        int top = 1 << (width - 1), mask = (1 << width) - 1;
        for (int i = 0; i < 256; i++)
        {
            int crc = i << (width - 8);
            for (int k = 0; k < 8; k++) crc = ((crc & top) != 0 ? (crc << 1) ^ polynomial : crc << 1) & mask;
            table[i] = crc;
        }
        return table;
    }

    private static int Crc8(ReadOnlySpan<byte> data)
    {
        int crc = 0;
        foreach (byte b in data) crc = Crc8Table[crc ^ b];
        return crc;
    }

    private static int Crc16(ReadOnlySpan<byte> data)
    {
        int crc = 0;
        foreach (byte b in data) crc = ((crc << 8) & 0xFFFF) ^ Crc16Table[(crc >> 8) ^ b];
        return crc;
    }
}
