using System.IO.Compression;
using System.Net;
using SpeechEmotion.Audio.Tests;

namespace SpeechEmotion.Cli.Tests;

/// <summary>
/// <c>ser download</c> against a local HTTP server on 127.0.0.1 that serves a zip of generated files: it can cut
/// the connection mid-file (to prove resumption with a Range request) or fail every time (to prove a clean
/// failure). Bounded: each test makes at most a handful of requests and stops its server.
/// </summary>
public sealed class DownloadCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("se-download-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static (byte[] Zip, Dictionary<string, byte[]> Files) MakeZip()
    {
        var files = new Dictionary<string, byte[]>
        {
            ["OAF_angry/OAF_back_angry.wav"] = TestAudio.Wav([TestAudio.Tone(220, 0.3, 24414)], 24414),
            ["OAF_Fear/OAF_back_fear.wav"] = TestAudio.Wav([TestAudio.Tone(330, 0.3, 24414)], 24414),
            ["YAF_pleasant_surprised/YAF_back_ps.wav"] = TestAudio.Wav([TestAudio.Tone(440, 0.3, 24414)], 24414),
        };
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in files)
            {
                using var entry = zip.CreateEntry("TESS Toronto emotional speech set data/" + name, CompressionLevel.NoCompression).Open();
                entry.Write(bytes);
            }
            zip.CreateEntry("TESS Toronto emotional speech set data/README.txt").Open().Dispose();
        }
        return (memory.ToArray(), files);
    }

    /// <summary>Serves <paramref name="zip"/>; the first <paramref name="cutFirst"/> responses stop halfway.</summary>
    internal sealed class Server : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        public List<string?> Ranges { get; } = new();
        public string Url { get; }

        public Server(byte[] zip, int cutFirst)
        {
            int port = FreePort();
            Url = $"http://127.0.0.1:{port}/tess.zip";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                for (int request = 0; request < 10 && _listener.IsListening; request++)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); } catch (Exception) { return; }
                    string? range = context.Request.Headers["Range"];
                    lock (Ranges) Ranges.Add(range);
                    long start = range is null ? 0 : long.Parse(range["bytes=".Length..].TrimEnd('-'));
                    var response = context.Response;
                    response.StatusCode = start > 0 ? 206 : 200;
                    response.ContentLength64 = zip.Length - start;
                    if (request < cutFirst)
                    {
                        await response.OutputStream.WriteAsync(zip.AsMemory((int)start, (zip.Length - (int)start) / 2));
                        await response.OutputStream.FlushAsync();
                        response.Abort(); // the connection breaks mid-file
                        continue;
                    }
                    await response.OutputStream.WriteAsync(zip.AsMemory((int)start));
                    response.Close();
                }
            });
        }

        private static int FreePort()
        {
            var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public void ABrokenConnectionIsResumedAndTheCorpusUnpackedIntoItsLayout()
    {
        var (zip, files) = MakeZip();
        using var server = new Server(zip, cutFirst: 1);
        string destination = Path.Combine(_dir, "tess");
        var (exit, output, error) = CliRunner.Run("download", "tess", "--to", destination, "--url", server.Url, "--retries", "3");
        Assert.True(exit == 0, output + error);
        foreach (var (name, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(destination, name)));
        Assert.Null(server.Ranges[0]);
        Assert.StartsWith("bytes=", server.Ranges[1]); // the second request resumed where the first broke
        Assert.Contains("Unpacked 3 files", output);
        Assert.Contains("3 utterances in the tess layout", output);
        Assert.False(Directory.Exists(Path.Combine(destination, ".download")));
    }

    [Fact]
    public void AConnectionThatKeepsBreakingFailsCleanlyAndKeepsThePartialFile()
    {
        var (zip, _) = MakeZip();
        using var server = new Server(zip, cutFirst: 10);
        string destination = Path.Combine(_dir, "tess");
        var (exit, _, error) = CliRunner.Run("download", "tess", "--to", destination, "--url", server.Url, "--retries", "1");
        Assert.Equal(2, exit);
        Assert.Contains("download failed after 2 attempt(s)", error);
        Assert.Contains("Run the same command again to resume", error);
        Assert.Empty(Directory.GetFiles(destination, "*.wav", SearchOption.AllDirectories));
        Assert.True(new FileInfo(Path.Combine(destination, ".download", "tess.zip.part")).Length > 0);
    }

    [Fact]
    public void ACorruptArchiveIsRejected()
    {
        var (zip, _) = MakeZip();
        string path = Path.Combine(_dir, "bad.zip");
        var corrupt = (byte[])zip.Clone();
        int at = corrupt.AsSpan().IndexOf("RIFF"u8) + 100; // inside the first stored WAV
        corrupt[at] ^= 0xFF;
        File.WriteAllBytes(path, corrupt);
        var error = Assert.Throws<SpeechEmotion.Core.SpeechEmotionException>(() => SpeechEmotion.Training.Corpus.CorpusDownloader.Unpack(path, Path.Combine(_dir, "out")));
        Assert.Contains("fails its CRC-32 check", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
    }

    private static byte[] Zip(params (string Name, byte[] Bytes, CompressionLevel Level)[] entries)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes, level) in entries)
            {
                using var entry = zip.CreateEntry(name, level).Open();
                entry.Write(bytes);
            }
        return memory.ToArray();
    }

    private static byte[] Wav(double frequency) => TestAudio.Wav([TestAudio.Tone(frequency, 0.3, 48000)], 48000);

    [Fact]
    public void RavdessIsFetchedFromItsOwnRecordIntoItsActorFolders()
    {
        var zip = Zip(("Actor_01/03-01-05-02-01-01-01.wav", Wav(220), CompressionLevel.Optimal),
            ("Actor_02/03-01-01-01-01-01-02.wav", Wav(330), CompressionLevel.Optimal));
        using var server = new Server(zip, cutFirst: 0);
        string destination = Path.Combine(_dir, "ravdess");
        var (exit, output, error) = CliRunner.Run("download", "RAVDESS", "--to", destination, "--url", server.Url);
        Assert.True(exit == 0, output + error);
        Assert.Contains("RAVDESS (speech) (CC BY-NC-SA 4.0; Livingstone and Russo, 2018)", output);
        Assert.Contains("2 utterances in the ravdess layout", output);
        Assert.True(File.Exists(Path.Combine(destination, "Actor_02", "03-01-01-01-01-01-02.wav")));
        CliRunner.Refused("Unknown dataset 'voxceleb': ser download takes tess, ravdess, emodb, cremad", "download", "voxceleb");
        CliRunner.Refused("--url must be an http or https address, got 'file:///etc/passwd'", "download", "emodb", "--to", destination, "--url", "file:///etc/passwd");
        CliRunner.Refused("--url must be an http or https address, got 'not-a-url'", "download", "emodb", "--to", destination, "--url", "not-a-url");
    }

    /// <summary>Each hostile archive is refused with a line naming the entry, and leaves nothing in the destination.</summary>
    [Fact]
    public void HostileArchivesAreRefusedAndLeaveNothingBehind()
    {
        var cases = new (string Expected, byte[] Zip, SpeechEmotion.Training.Corpus.CorpusDownloader.Limits? Limits)[]
        {
            ("a second entry for Actor_01/a.wav", Zip(("x/Actor_01/a.wav", Wav(220), CompressionLevel.Optimal), ("y/Actor_01/a.wav", Wav(330), CompressionLevel.Optimal)), null),
            ("refused as a zip bomb", Zip(("Actor_01/zeros.wav", new byte[4 << 20], CompressionLevel.SmallestSize)), null),
            ("has a file name of 300 bytes; file systems take 255", Zip(("Actor_01/" + new string('a', 296) + ".wav", Wav(220), CompressionLevel.Optimal)), null),
            ("over the limit of 1,000", Zip(("Actor_01/a.wav", Wav(220), CompressionLevel.NoCompression)), new(MaxEntryBytes: 1000)),
            ("nested 3 deep, over the limit of 2", Zip(("outer.zip", Zip(("inner.zip", Zip(("Actor_01/a.wav", Wav(220), CompressionLevel.Optimal)), CompressionLevel.Optimal)), CompressionLevel.Optimal)), null),
            ("has an unsafe path", Zip(("../a.wav", Wav(220), CompressionLevel.Optimal)), null),
            // Found by the zip fuzzer: a NUL in a name (an ArgumentException from the file system once), and a central
            // directory whose count disagrees with its end record (an InvalidDataException, thrown when entries are read).
            ("has an unsafe path", Zip(("Actor_01/a\0b.wav", Wav(220), CompressionLevel.Optimal)), null),
            ("not a valid zip archive", MiscountedEntries(Zip(("Actor_01/a.wav", Wav(220), CompressionLevel.Optimal))), null),
        };
        foreach (var (expected, zip, limits) in cases)
        {
            string path = Path.Combine(_dir, "hostile.zip"), destination = Path.Combine(_dir, "out");
            File.WriteAllBytes(path, zip);
            var error = Assert.Throws<SpeechEmotion.Core.SpeechEmotionException>(() => SpeechEmotion.Training.Corpus.CorpusDownloader.Unpack(path, destination, limits));
            Assert.Contains(expected, error.Message);
            Assert.False(Directory.Exists(destination), expected);
            Assert.Equal([path], Directory.GetFileSystemEntries(_dir)); // the staging folder is gone too
        }
        // A zip inside a zip, one level deep, unpacks.
        string ok = Path.Combine(_dir, "nested.zip");
        File.WriteAllBytes(ok, Zip(("inner.zip", Zip(("Actor_01/a.wav", Wav(220), CompressionLevel.Optimal)), CompressionLevel.Optimal)));
        Assert.Equal(1, SpeechEmotion.Training.Corpus.CorpusDownloader.Unpack(ok, Path.Combine(_dir, "good")));
    }

    /// <summary>A zip whose end-of-central-directory record counts one entry more than the directory holds.</summary>
    private static byte[] MiscountedEntries(byte[] zip)
    {
        int end = zip.Length - 22; // no comment: the record is the last 22 bytes
        Assert.Equal(0x06054b50u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end)));
        zip[end + 8]++; zip[end + 10]++; // entries on this disk, entries in all
        return zip;
    }

    /// <summary>Serves fixed bytes per path (404 otherwise), for a repository listing and its files.</summary>
    private sealed class Files : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        public string Root { get; }
        public List<string> Requested { get; } = new();

        public Files(IReadOnlyDictionary<string, byte[]> files)
        {
            var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Root = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Root);
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                for (int request = 0; request < 50 && _listener.IsListening; request++)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); } catch (Exception) { return; }
                    string path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath.TrimStart('/'));
                    lock (Requested) Requested.Add(path);
                    if (files.TryGetValue(path, out var body))
                    {
                        context.Response.ContentLength64 = body.Length;
                        await context.Response.OutputStream.WriteAsync(body);
                    }
                    else context.Response.StatusCode = 404;
                    context.Response.Close();
                }
            });
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public void CremaDIsFetchedFileByFileFromItsRepositoryListing()
    {
        string listing = """{"tree":[{"path":"AudioWAV","type":"tree"},{"path":"AudioWAV/1001_DFA_ANG_XX.wav","type":"blob"},{"path":"AudioWAV/1002_IEO_HAP_HI.wav","type":"blob"},{"path":"README.md","type":"blob"}]}""";
        var files = new Dictionary<string, byte[]>
        {
            ["tree"] = System.Text.Encoding.UTF8.GetBytes(listing),
            ["media/AudioWAV/1001_DFA_ANG_XX.wav"] = Wav(220),
            ["media/AudioWAV/1002_IEO_HAP_HI.wav"] = Wav(330),
        };
        string destination = Path.Combine(_dir, "cremad");
        using (var server = new Files(files))
        {
            var (exit, output, error) = CliRunner.Run("download", "cremad", "--to", destination, "--url", server.Root + "tree", "--files-url", server.Root + "media/");
            Assert.True(exit == 0, output + error);
            Assert.Contains("2 utterances in the cremad layout", output);
            Assert.Equal(files["media/AudioWAV/1002_IEO_HAP_HI.wav"], File.ReadAllBytes(Path.Combine(destination, "AudioWAV", "1002_IEO_HAP_HI.wav")));
            Assert.DoesNotContain("README.md", server.Requested);
            // A second run keeps the files it has and fetches only the listing.
            int before = server.Requested.Count;
            Assert.Equal(0, CliRunner.Run("download", "cremad", "--to", destination, "--url", server.Root + "tree", "--files-url", server.Root + "media/").Exit);
            Assert.Equal(["tree"], server.Requested.Skip(before));
        }
        // What arrives as a Git LFS pointer instead of audio is refused and not kept.
        files["media/AudioWAV/1002_IEO_HAP_HI.wav"] = "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n"u8.ToArray();
        string second = Path.Combine(_dir, "cremad-pointer");
        using (var server = new Files(files))
        {
            var (exit, _, error) = CliRunner.Run("download", "cremad", "--to", second, "--url", server.Root + "tree", "--files-url", server.Root + "media/");
            Assert.Equal(2, exit);
            Assert.Contains("is not a readable WAV (a Git LFS pointer or an error page?)", error);
            Assert.False(File.Exists(Path.Combine(second, "AudioWAV", "1002_IEO_HAP_HI.wav")));
            Assert.True(File.Exists(Path.Combine(second, "AudioWAV", "1001_DFA_ANG_XX.wav")));
        }
    }
}
