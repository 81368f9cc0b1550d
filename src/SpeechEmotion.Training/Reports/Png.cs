using System.Buffers.Binary;
using System.IO.Compression;

namespace SpeechEmotion.Training.Reports;

/// <summary>
/// A minimal PNG writer (RFC 2083: signature, IHDR, one zlib IDAT, IEND, each chunk with its CRC-32) for heat
/// maps embedded in the report as data URIs: a spectrogram as SVG rectangles would be thousands of elements.
/// </summary>
public static class Png
{
    /// <summary>rgb: [height × width × 3] bytes, top row first.</summary>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> rgb)
    {
        if (rgb.Length != width * height * 3) throw new ArgumentException($"expected {width * height * 3} RGB bytes, got {rgb.Length}.");
        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter: none
                zlib.Write(rgb.Slice(y * width * 3, width * 3));
            }
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; header[9] = 2; // 8-bit RGB
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", raw.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        uint crc = Corpus.Crc32.Update(Corpus.Crc32.Update(0xFFFFFFFFu, typeBytes), data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc ^ 0xFFFFFFFFu);
        stream.Write(word);
    }

    /// <summary>
    /// values [rows × columns] (row 0 drawn at the bottom, as frequency or coefficient index) → an RGB heat map on
    /// a perceptually ordered dark-blue → teal → yellow scale, min to max.
    /// </summary>
    public static byte[] HeatMap(ReadOnlySpan<float> values, int rows, int columns)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values) { min = Math.Min(min, v); max = Math.Max(max, v); }
        float range = max > min ? max - min : 1f;
        var rgb = new byte[rows * columns * 3];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                var (red, green, blue) = Colour((values[r * columns + c] - min) / range);
                int at = ((rows - 1 - r) * columns + c) * 3;
                rgb[at] = red; rgb[at + 1] = green; rgb[at + 2] = blue;
            }
        return Encode(columns, rows, rgb);
    }

    private static readonly (float T, byte R, byte G, byte B)[] Stops =
        [(0f, 68, 1, 84), (0.25f, 59, 82, 139), (0.5f, 33, 145, 140), (0.75f, 94, 201, 98), (1f, 253, 231, 37)];

    private static (byte, byte, byte) Colour(float t)
    {
        t = Math.Clamp(t, 0f, 1f);
        for (int i = 1; i < Stops.Length; i++)
            if (t <= Stops[i].T)
            {
                var (a, b) = (Stops[i - 1], Stops[i]);
                float u = (t - a.T) / (b.T - a.T);
                return ((byte)(a.R + u * (b.R - a.R)), (byte)(a.G + u * (b.G - a.G)), (byte)(a.B + u * (b.B - a.B)));
            }
        return (Stops[^1].R, Stops[^1].G, Stops[^1].B);
    }
}
