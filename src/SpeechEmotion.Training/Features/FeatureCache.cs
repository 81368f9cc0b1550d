using SpeechEmotion.Core.IO;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SpeechEmotion.Audio;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Features;

/// <summary>
/// Features on disk, keyed by the audio file's content hash (SHA-256) and the front-end settings: a changed
/// file or setting misses and is recomputed, an unchanged one is served. An entry is
/// "SEFEAT01" | frames (int32) | feature size (int32) | float32 values | SHA-256 of everything before it,
/// all little-endian, written to a temp file and renamed. An entry that fails any check is treated as missing
/// (and so rebuilt).
/// </summary>
public sealed class FeatureCache
{
    private static readonly byte[] Magic = "SEFEAT01"u8.ToArray();

    /// <param name="variant">Anything else that changes the features (e.g. "speed=0.9" for augmented copies).</param>
    public FeatureCache(string directory, FrontEndSettings settings, string variant = "")
    {
        Settings = settings;
        string settingsKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(settings.Serialize() + "|" + variant + "|v" + FrontEnd.Version)))[..16].ToLowerInvariant();
        Directory = Path.Combine(directory, settingsKey);
    }

    public FrontEndSettings Settings { get; }

    /// <summary>The folder of this settings' entries.</summary>
    public string Directory { get; }

    public static string ContentHash(ReadOnlySpan<byte> fileBytes) => Convert.ToHexString(SHA256.HashData(fileBytes)).ToLowerInvariant();

    private string EntryPath(string contentHash) => Path.Combine(Directory, contentHash[..2], contentHash + ".sefeat");

    /// <summary>The cached features, or null when absent or corrupt.</summary>
    public Audio.Features? TryGet(string contentHash)
    {
        string path = EntryPath(contentHash);
        if (!File.Exists(path)) return null;
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        if (bytes.Length < 8 + 8 + 32 || !bytes.AsSpan(0, 8).SequenceEqual(Magic)) return null;
        int frames = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        int size = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        if (frames <= 0 || size != Settings.FeatureSize || (long)frames * size * 4 + 16 + 32 != bytes.Length) return null;
        int payload = bytes.Length - 32;
        if (!SHA256.HashData(bytes.AsSpan(0, payload)).AsSpan().SequenceEqual(bytes.AsSpan(payload))) return null;
        var values = new float[frames * size];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(16 + 4 * i));
        return new Audio.Features(values, frames, size);
    }

    /// <summary>Why the cache could not be written (null while it can): a cache is a convenience, so a folder that
    /// cannot be written (read-only, full, a file in the way) leaves the run uncached instead of failing it.</summary>
    public string? WriteProblem { get; private set; }

    public void Put(string contentHash, Audio.Features features)
    {
        if (WriteProblem is not null) return;
        try { Write(contentHash, features); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { WriteProblem ??= e.Message; }
    }

    private void Write(string contentHash, Audio.Features features)
    {
        var bytes = new byte[16 + 4 * features.Values.Length + 32];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), features.Frames);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), features.FeatureSize);
        for (int i = 0; i < features.Values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(16 + 4 * i), features.Values[i]);
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32), bytes.AsSpan(bytes.Length - 32));
        AtomicFile.WriteAllBytes(EntryPath(contentHash), bytes);
    }
}
