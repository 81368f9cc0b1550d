using System.Buffers.Binary;
using System.Text;

namespace SpeechEmotion.Audio.Tests;

/// <summary>Builds WAV and AIFF files byte by byte, so each reader path is tested on a file we know exactly.</summary>
public static class TestAudio
{
    public static float[] Tone(double frequency, double seconds, int rate, double amplitude = 0.5, double phase = 0) =>
        Enumerable.Range(0, (int)(seconds * rate)).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * frequency * i / rate + phase))).ToArray();

    /// <summary>A RIFF chunk (little-endian size) or, with bigEndian, an AIFF one; padded to an even length.</summary>
    public static byte[] Chunk(string id, byte[] body, bool bigEndian = false)
    {
        var chunk = new byte[8 + body.Length + (body.Length & 1)];
        Encoding.ASCII.GetBytes(id).CopyTo(chunk, 0);
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(4), (uint)body.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), (uint)body.Length);
        body.CopyTo(chunk, 8);
        return chunk;
    }

    /// <summary>Interleaved sample bytes, little-endian, as WAV stores them.</summary>
    public static byte[] Samples(float[][] channels, int bits, bool isFloat, bool bigEndian = false)
    {
        int frames = channels[0].Length, bytesPer = bits / 8;
        var data = new byte[frames * channels.Length * bytesPer];
        for (int f = 0; f < frames; f++)
            for (int c = 0; c < channels.Length; c++)
            {
                var span = data.AsSpan((f * channels.Length + c) * bytesPer, bytesPer);
                double v = channels[c][f];
                if (isFloat && bits == 32) { if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(span, (float)v); else BinaryPrimitives.WriteSingleLittleEndian(span, (float)v); }
                else if (isFloat) { if (bigEndian) BinaryPrimitives.WriteDoubleBigEndian(span, v); else BinaryPrimitives.WriteDoubleLittleEndian(span, v); }
                else if (bits == 8 && !bigEndian) span[0] = (byte)Math.Clamp(Math.Round(v * 128) + 128, 0, 255);
                else
                {
                    long q = (long)Math.Clamp(Math.Round(v * (1L << (bits - 1))), -(1L << (bits - 1)), (1L << (bits - 1)) - 1);
                    for (int b = 0; b < bytesPer; b++) span[bigEndian ? bytesPer - 1 - b : b] = (byte)(q >> (8 * b));
                }
            }
        return data;
    }

    public static byte[] Fmt(int formatTag, int channels, int rate, int bits, bool extensible = false, int subFormat = 1)
    {
        var fmt = new byte[extensible ? 40 : 16];
        BinaryPrimitives.WriteUInt16LittleEndian(fmt, (ushort)(extensible ? 0xFFFE : formatTag));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(2), (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(4), (uint)rate);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(8), (uint)(rate * channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(12), (ushort)(channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(14), (ushort)bits);
        if (extensible)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(16), 22);
            BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(18), (ushort)bits);
            BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(24), (ushort)subFormat);
            // rest of the KSDATAFORMAT GUID: 00000000-0010-0080-00aa00389b71
            byte[] guidTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];
            guidTail.CopyTo(fmt, 26);
        }
        return Chunk("fmt ", fmt);
    }

    public static byte[] Riff(params byte[][] chunks)
    {
        int length = 4 + chunks.Sum(c => c.Length);
        var file = new byte[8 + length];
        Encoding.ASCII.GetBytes("RIFF").CopyTo(file, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), (uint)length);
        Encoding.ASCII.GetBytes("WAVE").CopyTo(file, 8);
        int position = 12;
        foreach (var chunk in chunks) { chunk.CopyTo(file, position); position += chunk.Length; }
        return file;
    }

    public static byte[] Wav(float[][] channels, int rate, int bits = 16, bool isFloat = false, bool extensible = false) =>
        Riff(Fmt(isFloat ? 3 : 1, channels.Length, rate, bits, extensible, isFloat ? 3 : 1), Chunk("data", Samples(channels, bits, isFloat)));

    /// <summary>AIFF (or AIFC with the given compression type) with big-endian chunk sizes and an 80-bit rate.</summary>
    public static byte[] Aiff(float[][] channels, int rate, int bits = 16, string? aifcType = null)
    {
        bool littleEndianData = aifcType == "sowt", isFloat = aifcType is "fl32" or "fl64";
        byte[] data = Samples(channels, bits, isFloat, bigEndian: !littleEndianData);
        var comm = new byte[aifcType is null ? 18 : 24];
        BinaryPrimitives.WriteInt16BigEndian(comm, (short)channels.Length);
        BinaryPrimitives.WriteUInt32BigEndian(comm.AsSpan(2), (uint)channels[0].Length);
        BinaryPrimitives.WriteInt16BigEndian(comm.AsSpan(6), (short)bits);
        WriteExtended(comm.AsSpan(8), rate);
        if (aifcType is not null) Encoding.ASCII.GetBytes(aifcType).CopyTo(comm, 18);
        var ssnd = new byte[8 + data.Length];
        data.CopyTo(ssnd, 8);
        var chunks = new[] { Chunk("COMM", comm, bigEndian: true), Chunk("SSND", ssnd, bigEndian: true) };
        int length = 4 + chunks.Sum(c => c.Length);
        var file = new byte[8 + length];
        Encoding.ASCII.GetBytes("FORM").CopyTo(file, 0);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(4), (uint)length);
        Encoding.ASCII.GetBytes(aifcType is null ? "AIFF" : "AIFC").CopyTo(file, 8);
        chunks[0].CopyTo(file, 12);
        chunks[1].CopyTo(file, 12 + chunks[0].Length);
        return file;
    }

    private static void WriteExtended(Span<byte> destination, double value)
    {
        int exponent = (int)Math.Floor(Math.Log2(value));
        ulong mantissa = (ulong)(value / Math.Pow(2, exponent - 63));
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(exponent + 16383));
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], mantissa);
    }
}
