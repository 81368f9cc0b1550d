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
        byte[] file;
        try
        {
            CheckDeclaredSize(path);
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFileException(path, $"cannot be read: {e.Message}", e); }
        return Parse(file, path);
    }

    /// <summary>
    /// Reads the header alone and checks that the data it declares is exactly what follows it, before the file is read
    /// whole: a large file with a small or broken header is refused without holding it in memory. (Parse then checks
    /// every tensor.)
    /// </summary>
    private static void CheckDeclaredSize(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        long length = stream.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8) return; // Parse says what is wrong
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(length - 8)) return; // likewise
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long declared = 0;
        try
        {
            using var document = JsonDocument.Parse(header);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return;
            foreach (var property in document.RootElement.EnumerateObject())
                if (property.Name != "__metadata__" && property.Value.ValueKind == JsonValueKind.Object &&
                    property.Value.TryGetProperty("data_offsets", out var offsets) && offsets.ValueKind == JsonValueKind.Array &&
                    offsets.GetArrayLength() == 2 && offsets[1].TryGetInt64(out long end))
                    declared = Math.Max(declared, end);
        }
        catch (JsonException) { return; }
        long actual = length - 8 - (long)headerLength;
        if (declared > actual)
            throw new ModelFileException(path, $"truncated: the header describes {declared:N0} bytes of tensor data but only {actual:N0} follow it.");
        if (declared < actual)
            throw new ModelFileException(path, $"{actual - declared:N0} bytes after the tensors the header describes ({declared:N0}): not a file this header belongs to (refused unread).");
    }

    /// <summary>A whole safetensors file already in memory; <paramref name="path"/> names it in messages.</summary>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(byte[] file, string path)
    {
        if (file.Length < 8) throw new ModelFileException(path, $"not a safetensors file: {file.Length} bytes, shorter than the 8-byte header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes) throw new ModelFileException(path, $"not a safetensors file: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit.");
        if (headerLength > (ulong)(file.Length - 8)) throw new ModelFileException(path, $"truncated: header claims {headerLength} bytes but only {file.Length - 8} follow.");
        int dataStart = 8 + (int)headerLength;
        JsonDocument document;
        try { document = JsonDocument.Parse(file.AsMemory(8, (int)headerLength)); }
        catch (JsonException e) { throw new ModelFileException(path, $"not a safetensors file: the header is not valid JSON ({e.Message}).", e); }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFileException(path, "not a safetensors file: the header is not a JSON object.");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
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
            long dataLength = file.Length - dataStart;
            long expectedOffset = 0;
            var tensors = new List<NamedTensor>(entries.Count);
            foreach (var entry in entries.OrderBy(e => e.Begin))
            {
                if (entry.Begin != expectedOffset) throw new ModelFileException(path, $"tensor '{entry.Name}' starts at byte {entry.Begin}, expected {expectedOffset}: data is not contiguous.");
                if (entry.End > dataLength) throw new ModelFileException(path, $"truncated: tensor '{entry.Name}' ends at byte {entry.End} of the data, which has only {dataLength}.");
                expectedOffset = entry.End;
            }
            if (expectedOffset != dataLength) throw new ModelFileException(path, $"{dataLength - expectedOffset} bytes after the last tensor: not what the header describes.");
            foreach (var entry in entries)
            {
                var data = new float[(entry.End - entry.Begin) / 4];
                for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(dataStart + (int)entry.Begin + 4 * i));
                tensors.Add(new NamedTensor(entry.Name, entry.Shape, data));
            }
            return (tensors, metadata);
        }
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
        long elements = dims.Aggregate(1L, (product, dim) => product * dim);
        if (begin < 0 || end < begin || end - begin != 4 * elements)
            throw new ModelFileException(path, $"tensor '{property.Name}' of shape [{string.Join(", ", dims)}] needs {4 * elements} bytes but data_offsets give [{begin}, {end}].");
        return (property.Name, dims, begin, end);
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text);
}
