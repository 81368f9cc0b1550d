using SpeechEmotion.Core.IO;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using SpeechEmotion.Core;

namespace SpeechEmotion.Training.Corpus;

/// <summary>
/// Fetches TESS from its official record (Borealis Dataverse, DOI 10.5683/SP2/E8H2MF) through the Dataverse
/// data-access API, which serves a whole dataset as one zip. The zip is streamed to DEST/.download/tess.zip.part;
/// a broken connection is retried from where it stopped with an HTTP Range request (and a later run resumes the
/// same way); the finished zip is verified (every entry's CRC-32) and its WAV files unpacked into the corpus
/// layout DEST/&lt;SPEAKER_emotion&gt;/&lt;file&gt;.wav, each written through a temp file.
/// </summary>
public sealed class TessDownloader(HttpClient http)
{
    public const string OfficialUrl = "https://borealisdata.ca/api/access/dataset/:persistentId/?persistentId=doi:10.5683/SP2/E8H2MF";

    public sealed record Result(string Destination, int Files, long Bytes, int Attempts);

    public async Task<Result> DownloadAsync(string url, string destination, int retries, Action<long, long?>? progress, CancellationToken cancellation)
    {
        string work = Path.Combine(destination, ".download");
        Directory.CreateDirectory(work);
        string part = Path.Combine(work, "tess.zip.part"), zip = Path.Combine(work, "tess.zip");
        int attempts = 0;
        while (!File.Exists(zip))
        {
            attempts++;
            try
            {
                await FetchAsync(url, part, progress, cancellation);
                File.Move(part, zip, overwrite: true);
            }
            catch (Exception e) when (e is HttpRequestException or IOException && !cancellation.IsCancellationRequested)
            {
                long have = File.Exists(part) ? new FileInfo(part).Length : 0;
                if (attempts > retries)
                    throw new SpeechEmotionException($"{url}: download failed after {attempts} attempt(s) with {have:N0} bytes received ({e.Message}). " +
                        $"Run the same command again to resume from {part}.");
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempts), cancellation);
            }
        }
        int files = Unpack(zip, destination);
        long bytes = new FileInfo(zip).Length;
        File.Delete(zip);
        Directory.Delete(work, recursive: true);
        return new Result(destination, files, bytes, attempts);
    }

    private async Task FetchAsync(string url, string part, Action<long, long?>? progress, CancellationToken cancellation)
    {
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) { File.Delete(part); throw new IOException("the server refused to resume; starting again"); }
        if (!response.IsSuccessStatusCode)
            throw new SpeechEmotionException($"{url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed) have = 0; // the server sent the whole file: start over
        long? total = response.Content.Headers.ContentLength is { } length ? length + have : null;
        await using var body = await response.Content.ReadAsStreamAsync(cancellation);
        await using var file = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None);
        var buffer = new byte[1 << 16];
        long received = have;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellation)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read), cancellation);
            received += read;
            progress?.Invoke(received, total);
        }
        if (total is { } expected && received != expected)
            throw new IOException($"connection closed after {received:N0} of {expected:N0} bytes");
    }

    /// <summary>Verifies every entry's CRC-32, then writes the WAV files (also from nested zips) into the layout.</summary>
    public static int Unpack(string zipPath, string destination)
    {
        using var archive = OpenZip(zipPath);
        var wavs = new List<(string Folder, string Name, byte[] Bytes)>();
        Collect(archive, zipPath, wavs);
        if (wavs.Count == 0) throw new SpeechEmotionException($"{zipPath}: the archive holds no .wav files: not the TESS dataset.");
        foreach (var (folder, name, bytes) in wavs)
            AtomicFile.WriteAllBytes(Path.Combine(destination, folder, name), bytes);
        return wavs.Count;
    }

    private static ZipArchive OpenZip(string path)
    {
        try { return ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new SpeechEmotionException($"{path}: not a valid zip archive ({e.Message}); delete it and download again."); }
    }

    private static void Collect(ZipArchive archive, string source, List<(string, string, byte[])> wavs)
    {
        foreach (var entry in archive.Entries)
        {
            if (entry.FullName.EndsWith('/')) continue;
            byte[] bytes;
            using (var stream = entry.Open())
            using (var memory = new MemoryStream())
            {
                stream.CopyTo(memory);
                bytes = memory.ToArray();
            }
            if (Crc32.Compute(bytes) != entry.Crc32)
                throw new SpeechEmotionException($"{source}: entry '{entry.FullName}' fails its CRC-32 check: the download is corrupt; delete it and download again.");
            string extension = Path.GetExtension(entry.Name).ToLowerInvariant();
            if (extension == ".zip")
            {
                using var nested = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
                Collect(nested, $"{source}!{entry.FullName}", wavs);
            }
            else if (extension == ".wav")
            {
                var segments = entry.FullName.Replace('\\', '/').Split('/');
                string folder = segments.Length >= 2 ? segments[^2] : "unsorted";
                if (folder is ".." or "." || entry.Name.Contains(".."))
                    throw new SpeechEmotionException($"{source}: entry '{entry.FullName}' has an unsafe path.");
                wavs.Add((folder, entry.Name, bytes));
            }
        }
    }
}

/// <summary>CRC-32 (IEEE 802.3, as zip and PNG use it).</summary>
public static class Crc32
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static uint Compute(ReadOnlySpan<byte> data) => Update(0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;

    /// <summary>Continues a running CRC (start with 0xFFFFFFFF, finish by xor with 0xFFFFFFFF).</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
