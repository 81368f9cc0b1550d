using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace SpeechEmotion.Core.IO;

/// <summary>One float32 tensor read from or written to a safetensors file.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data);

/// <summary>
/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
/// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
/// then the raw little-endian data. We write tensors in the order given, metadata keys sorted, and pad the
/// header with spaces to a multiple of 8, so save → load → save is byte-identical. Writes go to a temp file
/// that is renamed into place: a crash never leaves half a model.
/// </summary>
public static class SafeTensors
{
    /// <summary>Largest header we accept (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new StringBuilder("{");
        var sortedMetadata = metadata.OrderBy(pair => pair.Key, StringComparer.Ordinal).ToList();
        if (sortedMetadata.Count > 0)
        {
            header.Append("\"__metadata__\":{");
            header.Append(string.Join(",", sortedMetadata.Select(pair => $"{Quote(pair.Key)}:{Quote(pair.Value)}")));
            header.Append('}');
        }
        long offset = 0;
        foreach (var tensor in tensors)
        {
            long expected = tensor.Shape.Aggregate(1L, (product, dim) => product * dim);
            if (expected != tensor.Data.Length) throw new ShapeException($"Tensor '{tensor.Name}' has shape [{string.Join(", ", tensor.Shape)}] but {tensor.Data.Length} values.");
            if (header.Length > 1) header.Append(',');
            long end = offset + 4L * tensor.Data.Length;
            header.Append($"{Quote(tensor.Name)}:{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", tensor.Shape)}],\"data_offsets\":[{offset},{end}]}}");
            offset = end;
        }
        header.Append('}');
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        int padding = (8 - headerBytes.Length % 8) % 8;

        var file = new byte[8 + headerBytes.Length + padding + 4 * tensors.Sum(tensor => (long)tensor.Data.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(headerBytes.Length + padding));
        headerBytes.CopyTo(file, 8);
        file.AsSpan(8 + headerBytes.Length, padding).Fill((byte)' ');
        int position = 8 + headerBytes.Length + padding;
        foreach (var tensor in tensors)
            foreach (float value in tensor.Data)
            {
                BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(position), value);
                position += 4;
            }
        AtomicFile.WriteAllBytes(path, file, durable: true);
    }

    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path))
            throw new ModelFileException(path, Directory.Exists(path) ? $"is a folder, not a model file (a run folder holds its model as {Path.Combine(path, "model.safetensors")})." : "file not found.");
        // A pipe or device reports length 0, and reading one would wait for ever: refused unread.
        if (new FileInfo(path).Length == 0) throw new ModelFileException(path, "is empty (0 bytes) or not a regular file (a pipe or a device).");
        try
        {
            // The header alone first, checked whole (and the data it declares against the file's size), so that a
            // large file with a small or broken header is refused without being held in memory.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            long length = stream.Length;
            Span<byte> prefix = stackalloc byte[8];
            if (length < 8 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
                throw new ModelFileException(path, $"not a safetensors file: {length} bytes, shorter than the 8-byte header length.");
            int headerLength = CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(prefix), length, path);
            var header = ParseHeader(ReadExactly(stream, headerLength), path);
            CheckDataLength(header.DataLength, length - 8 - headerLength, path);
            var data = ReadExactly(stream, (int)header.DataLength);
            return (Tensors(header, data, 0), header.Metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFileException(path, $"cannot be read: {e.Message}", e); }
    }

    private static byte[] ReadExactly(Stream stream, int count)
    {
        var bytes = new byte[count];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A whole safetensors file already in memory; <paramref name="path"/> names it in messages.</summary>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(byte[] file, string path)
    {
        if (file.Length < 8) throw new ModelFileException(path, $"not a safetensors file: {file.Length} bytes, shorter than the 8-byte header length.");
        int headerLength = CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(file), file.Length, path);
        var header = ParseHeader(file.AsMemory(8, headerLength), path);
        CheckDataLength(header.DataLength, file.Length - 8L - headerLength, path);
        return (Tensors(header, file, 8 + headerLength), header.Metadata);
    }

    private static int CheckHeaderLength(ulong headerLength, long fileLength, string path)
    {
        if (headerLength > MaxHeaderBytes) throw new ModelFileException(path, $"not a safetensors file: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit.");
        if (headerLength > (ulong)(fileLength - 8)) throw new ModelFileException(path, $"truncated: header claims {headerLength} bytes but only {fileLength - 8} follow.");
        return (int)headerLength;
    }

    private static void CheckDataLength(long declared, long actual, string path)
    {
        if (declared > actual)
            throw new ModelFileException(path, $"truncated: the header describes {declared:N0} bytes of tensor data but only {actual:N0} follow it.");
        if (declared < actual)
            throw new ModelFileException(path, $"{actual - declared:N0} bytes after the tensors the header describes ({declared:N0}): not a file this header belongs to (refused unread).");
    }

    private sealed record Header(List<(string Name, int[] Shape, long Begin, long End)> Entries, Dictionary<string, string> Metadata, long DataLength);

    /// <summary>
    /// The JSON header: every tensor's dtype, shape and offsets checked, the tensors contiguous from byte 0 of the data;
    /// <see cref="Header.DataLength"/> is the number of data bytes they describe.
    /// </summary>
    private static Header ParseHeader(ReadOnlyMemory<byte> json, string path)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new ModelFileException(path, $"not a safetensors file: the header is not valid JSON ({e.Message}).", e); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFileException(path, "not a safetensors file: the header is not a JSON object.");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (!names.Add(property.Name)) throw new ModelFileException(path, $"the header names '{property.Name}' twice.");
                    if (property.Name == "__metadata__")
                    {
                        if (property.Value.ValueKind != JsonValueKind.Object) throw new ModelFileException(path, "__metadata__ is not an object.");
                        foreach (var item in property.Value.EnumerateObject())
                            metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String ? item.Value.GetString()!
                                : throw new ModelFileException(path, $"__metadata__ entry '{item.Name}' is not a string.");
                        continue;
                    }
                    entries.Add(ParseEntry(path, property));
                }
            }
            catch (InvalidOperationException e) // System.Text.Json reads a string's bytes only when asked for it
            {
                throw new ModelFileException(path, $"the header holds a name or value that is not valid UTF-8 text ({e.Message}).", e);
            }
            long expectedOffset = 0;
            foreach (var entry in entries.OrderBy(e => e.Begin))
            {
                if (entry.Begin != expectedOffset) throw new ModelFileException(path, $"tensor '{entry.Name}' starts at byte {entry.Begin}, expected {expectedOffset}: data is not contiguous.");
                expectedOffset = entry.End;
            }
            return new Header(entries, metadata, expectedOffset);
        }
    }

    /// <summary>The tensors of a checked header, read from <paramref name="bytes"/> at <paramref name="dataStart"/>.</summary>
    private static List<NamedTensor> Tensors(Header header, byte[] bytes, int dataStart)
    {
        var tensors = new List<NamedTensor>(header.Entries.Count);
        foreach (var entry in header.Entries)
        {
            var data = new float[(entry.End - entry.Begin) / 4];
            for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + (int)entry.Begin + 4 * i));
            tensors.Add(new NamedTensor(entry.Name, entry.Shape, data));
        }
        return tensors;
    }

    private static (string, int[], long, long) ParseEntry(string path, JsonProperty property)
    {
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtype) || !value.TryGetProperty("shape", out var shape)
            || !value.TryGetProperty("data_offsets", out var offsets) || shape.ValueKind != JsonValueKind.Array || offsets.ValueKind != JsonValueKind.Array)
            throw new ModelFileException(path, $"tensor '{property.Name}' lacks dtype, shape or data_offsets.");
        if (dtype.ValueKind != JsonValueKind.String) throw new ModelFileException(path, $"tensor '{property.Name}' has a dtype that is not a string ({dtype.ValueKind}).");
        if (dtype.GetString() != "F32") throw new ModelFileException(path, $"tensor '{property.Name}' has dtype {dtype.GetString()}; only F32 is supported.");
        int[] dims;
        long begin, end;
        try
        {
            dims = shape.EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var pair = offsets.EnumerateArray().Select(o => o.GetInt64()).ToArray();
            if (pair.Length != 2) throw new FormatException("data_offsets must have two entries");
            (begin, end) = (pair[0], pair[1]);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new ModelFileException(path, $"tensor '{property.Name}' has a malformed shape or data_offsets: {e.Message}.", e);
        }
        if (dims.Any(d => d < 0)) throw new ModelFileException(path, $"tensor '{property.Name}' has a negative dimension.");
        long elements = dims.Aggregate(1L, (product, dim) => product * dim > 1L << 40 ? 1L << 40 : product * dim); // capped: no wrap-around
        if (begin < 0 || end < begin || end - begin != 4 * elements)
            throw new ModelFileException(path, $"tensor '{property.Name}' of shape [{string.Join(", ", dims)}] needs {4 * elements} bytes but data_offsets give [{begin}, {end}].");
        return (property.Name, dims, begin, end);
    }

    private static string Quote(string text) => $"\"{JsonEncodedText.Encode(text).Value}\""; // the bytes JsonSerializer writes, without reflection
}
