using System.IO.MemoryMappedFiles;

namespace SpeechEmotion.Audio;

/// <summary>
/// A WAV or AIFF file read a block of frames at a time, so a long recording never needs all its samples in memory:
/// the header is parsed (and checked exactly as <see cref="AudioReader.Read"/> checks it) through a read-only memory
/// map, which touches only the header's pages; the samples are then decoded from a file stream, mixed down to mono,
/// block by block. <see cref="FrontEnd.Extract(AudioStream)"/> streams them through resampling, trimming and MFCCs.
/// A compressed file (FLAC, MP3, Ogg Vorbis) is decoded whole when opened (up to <see cref="AudioReader.MaxDecodedFrames"/>
/// frames and <see cref="AudioReader.DefaultMaxBytes"/> of file) and its mono samples served from memory.
/// </summary>
public sealed class AudioStream : IDisposable
{
    /// <summary>The largest file streamed: 2 GiB − 1 (its header is parsed as one span), over 3 hours of 48 kHz stereo 16-bit.</summary>
    public const long MaxBytes = int.MaxValue;

    private const int BlockFrames = 1 << 16;
    private readonly AudioReader.AudioLayout? _layout;
    private readonly FileStream? _file;
    private readonly AudioClip? _decoded; // a compressed file's samples
    private readonly byte[] _block;
    private long _position; // frames read so far

    private AudioStream(string path, AudioReader.AudioLayout layout, FileStream file)
    {
        Path = path; _layout = layout; _file = file;
        (SampleRate, Channels, Frames, Container, Encoding) = (layout.SampleRate, layout.Channels, layout.Frames, layout.Container, layout.Encoding);
        _block = new byte[BlockFrames * layout.FrameBytes];
        Rewind();
    }

    private AudioStream(string path, AudioClip decoded)
    {
        Path = path; _decoded = decoded; _block = [];
        (SampleRate, Channels, Frames, Container, Encoding) = (decoded.SampleRate, decoded.Channels, decoded.Samples.Length, decoded.Container, decoded.Encoding);
    }

    public string Path { get; }
    public int SampleRate { get; }
    public int Channels { get; }
    public long Frames { get; }
    public string Container { get; }
    public string Encoding { get; }
    public double Duration => Frames / (double)SampleRate;

    public static unsafe AudioStream Open(string path, long maxBytes = MaxBytes)
    {
        FileInfo info = new(path);
        if (!info.Exists) throw new AudioException(path, Directory.Exists(path) ? "is a folder, not an audio file." : "file not found.");
        if (info.Length > Math.Min(maxBytes, MaxBytes)) throw new AudioException(path, $"file is {info.Length:N0} bytes, over the limit of {Math.Min(maxBytes, MaxBytes):N0} bytes.");
        if (info.Length == 0) throw new AudioException(path, "is empty (0 bytes) or not a regular file (a pipe or a device): nothing to read.");
        try
        {
            if (IsCompressed(path)) return new AudioStream(path, AudioReader.Read(path));
            AudioReader.AudioLayout layout;
            using (var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read))
            using (var view = map.CreateViewAccessor(0, info.Length, MemoryMappedFileAccess.Read))
            {
                byte* start = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
                try { layout = AudioReader.Parse(new ReadOnlySpan<byte>(start + view.PointerOffset, (int)info.Length), path); }
                finally { view.SafeMemoryMappedViewHandle.ReleasePointer(); }
            }
            return new AudioStream(path, layout, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AudioException(path, $"cannot be read: {e.Message}"); }
    }

    private static bool IsCompressed(string path)
    {
        Span<byte> head = stackalloc byte[16];
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        int read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return AudioReader.Sniff(head[..read]) != AudioReader.Compression.None;
    }

    /// <summary>Back to the first frame.</summary>
    public void Rewind()
    {
        if (_file is not null) _file.Position = _layout!.DataOffset;
        _position = 0;
    }

    /// <summary>The next frames, mono, into <paramref name="mono"/>; the number read, 0 at the end.</summary>
    public int Read(Span<float> mono)
    {
        int count = (int)Math.Min(Math.Min(mono.Length, BlockFrames), Frames - _position);
        if (count <= 0) return 0;
        if (_decoded is not null)
        {
            _decoded.Samples.AsSpan((int)_position, count).CopyTo(mono);
            _position += count;
            return count;
        }
        var bytes = _block.AsSpan(0, count * _layout!.FrameBytes);
        try { _file!.ReadExactly(bytes); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AudioException(Path, $"cannot be read: {e.Message}"); }
        AudioReader.DecodeFrames(_layout!, bytes, mono, _position, Path);
        _position += count;
        return count;
    }

    /// <summary>Frames [first, first + count) as a clip (the seed recipe's window), reading only those.</summary>
    public AudioClip ReadClip(long first, int count)
    {
        first = Math.Clamp(first, 0, Frames);
        count = (int)Math.Min(count, Frames - first);
        var mono = new float[count];
        if (_file is not null) _file.Position = _layout!.DataOffset + first * _layout.FrameBytes;
        _position = first;
        for (int done = 0; done < count;) done += Read(mono.AsSpan(done));
        return new AudioClip(mono, SampleRate, Container, Encoding, Channels);
    }

    public void Dispose() => _file?.Dispose();
}
