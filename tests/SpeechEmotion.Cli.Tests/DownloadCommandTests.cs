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

    private static (byte[] Zip, Dictionary<string, byte[]> Files) MakeZip()
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
    private sealed class Server : IDisposable
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
        var error = Assert.Throws<SpeechEmotion.Core.SpeechEmotionException>(() => SpeechEmotion.Training.Corpus.TessDownloader.Unpack(path, Path.Combine(_dir, "out")));
        Assert.Contains("fails its CRC-32 check", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
    }
}
