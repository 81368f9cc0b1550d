using SpeechEmotion.Core.IO;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SpeechEmotion.Core;

namespace SpeechEmotion.Training.Corpus;

/// <summary>A corpus <c>ser download</c> can fetch: its official zip (or, with <see cref="FilesUrl"/>, the listing of a
/// repository whose files are fetched one by one), licence and the reference to cite.</summary>
public sealed record Dataset(string Name, string Title, string Url, string Licence, string Citation)
{
    /// <summary>For a repository: where each listed file is fetched from (its path appended); null for a zip.</summary>
    public string? FilesUrl { get; init; }

    /// <summary>For a repository: the folder of the listing whose .wav files are the corpus.</summary>
    public string? Folder { get; init; }
}

/// <summary>The official sources, one line each.</summary>
public static class Datasets
{
    /// <summary>TESS: Borealis Dataverse, DOI 10.5683/SP2/E8H2MF, the whole dataset as one zip through the data-access API.</summary>
    public static readonly Dataset Tess = new("tess", "TESS", "https://borealisdata.ca/api/access/dataset/:persistentId/?persistentId=doi:10.5683/SP2/E8H2MF",
        "CC BY-NC-ND 4.0", "Dupuis and Pichora-Fuller, 2010");

    /// <summary>RAVDESS's speech part: Zenodo record 1188976, Audio_Speech_Actors_01-24.zip (48 kHz, Actor_NN folders).</summary>
    public static readonly Dataset Ravdess = new("ravdess", "RAVDESS (speech)", "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1",
        "CC BY-NC-SA 4.0", "Livingstone and Russo, 2018");

    /// <summary>EmoDB: the Technische Universität Berlin release zip (wav/ holds the 535 utterances).</summary>
    public static readonly Dataset EmoDb = new("emodb", "EmoDB (Berlin Database of Emotional Speech)", "http://emodb.bilderbar.info/download/download.zip",
        "free for research, see emodb.bilderbar.info", "Burkhardt et al., 2005");

    /// <summary>CREMA-D: its public repository's AudioWAV folder (Git LFS objects, so fetched file by file through the
    /// media host; the listing is GitHub's recursive tree).</summary>
    public static readonly Dataset CremaD = new("cremad", "CREMA-D", "https://api.github.com/repos/CheyneyComputerScience/CREMA-D/git/trees/master?recursive=1",
        "Open Database License (ODbL) 1.0", "Cao et al., 2014")
    {
        FilesUrl = "https://media.githubusercontent.com/media/CheyneyComputerScience/CREMA-D/master/", Folder = "AudioWAV",
    };

    public static readonly IReadOnlyList<Dataset> All = [Tess, Ravdess, EmoDb, CremaD];

    public static Dataset Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new OptionsException($"Unknown dataset '{name}': ser download takes {string.Join(", ", All.Select(d => d.Name))}.");
}

/// <summary>
/// Fetches a corpus zip from its official record. The zip is streamed to DEST/.download/NAME.zip.part; a broken
/// connection is retried from where it stopped with an HTTP Range request (and a later run resumes the same way);
/// the finished zip is unpacked (<see cref="Unpack"/>) into DEST/&lt;folder&gt;/&lt;file&gt;.wav, the folder being each
/// file's own folder in the archive (TESS's SPEAKER_emotion, RAVDESS's Actor_NN, EmoDB's wav).
/// </summary>
public sealed class CorpusDownloader(HttpClient http)
{
    public sealed record Result(string Destination, int Files, long Bytes, int Attempts);

    public async Task<Result> DownloadAsync(Dataset dataset, string url, string destination, int retries, Action<long, long?>? progress, CancellationToken cancellation,
        string? filesUrl = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new OptionsException($"--url must be an http or https address, got '{url}'.");
        if (dataset.FilesUrl is not null) return await DownloadFilesAsync(dataset, url, filesUrl ?? dataset.FilesUrl, destination, retries, progress, cancellation);
        string work = Path.Combine(destination, ".download");
        Directory.CreateDirectory(work);
        string part = Path.Combine(work, $"{dataset.Name}.zip.part"), zip = Path.Combine(work, $"{dataset.Name}.zip");
        int attempts = 0;
        if (!File.Exists(zip)) // a finished zip from an earlier run that stopped while unpacking is used as it is
        {
            attempts = await WithRetries(url, part, retries, progress, cancellation);
            File.Move(part, zip, overwrite: true);
        }
        int files = Unpack(zip, destination);
        long bytes = new FileInfo(zip).Length;
        File.Delete(zip);
        Directory.Delete(work, recursive: true);
        return new Result(destination, files, bytes, attempts);
    }

    /// <summary>Largest listing and file a repository download takes (CREMA-D's listing is about 2 MB, its files under 1 MB).</summary>
    public const long MaxListingBytes = 64L << 20, MaxFileBytes = 64L << 20;

    /// <summary>
    /// A repository's corpus: the listing (GitHub's tree JSON: <c>{"tree": [{"path", "type"}, …]}</c>) names the files
    /// of <see cref="Dataset.Folder"/>; each is fetched to a .part file (resumed by Range), checked to be a WAV this
    /// project reads — a Git LFS pointer or an HTML error page is not —, and renamed into DEST/&lt;folder&gt;/. A file
    /// already there was checked before its rename and is kept, so a later run resumes where one stopped.
    /// </summary>
    private async Task<Result> DownloadFilesAsync(Dataset dataset, string listingUrl, string filesUrl, string destination, int retries,
        Action<long, long?>? progress, CancellationToken cancellation)
    {
        if (!Uri.TryCreate(filesUrl, UriKind.Absolute, out var filesUri) || filesUri.Scheme is not ("http" or "https"))
            throw new OptionsException($"--files-url must be an http or https address, got '{filesUrl}'.");
        string work = Path.Combine(destination, ".download");
        Directory.CreateDirectory(work);
        string listingPart = Path.Combine(work, "listing.json");
        File.Delete(listingPart); // the listing is always fetched afresh
        await WithRetries(listingUrl, listingPart, retries, progress, cancellation);
        if (new FileInfo(listingPart).Length > MaxListingBytes) throw new SpeechEmotionException($"{listingUrl}: the listing is over {MaxListingBytes:N0} bytes: refused.");
        List<string> paths;
        try
        {
            using var listing = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(listingPart));
            paths = listing.RootElement.GetProperty("tree").EnumerateArray()
                .Where(e => e.TryGetProperty("type", out var t) && t.GetString() == "blob")
                .Select(e => e.GetProperty("path").GetString() ?? "")
                .Where(p => p.StartsWith(dataset.Folder + "/", StringComparison.Ordinal) && p.EndsWith(".wav", StringComparison.OrdinalIgnoreCase))
                .ToList();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new SpeechEmotionException($"{listingUrl}: not a repository listing ({e.Message}).");
        }
        if (paths.Count == 0) throw new SpeechEmotionException($"{listingUrl}: the listing names no .wav file under {dataset.Folder}/.");
        int attempts = 1, fetched = 0;
        long bytes = 0;
        foreach (var path in paths)
        {
            string name = Path.GetFileName(path);
            if (name.Length == 0 || name.Contains("..") || path.Count(c => c == '/') != 1 || System.Text.Encoding.UTF8.GetByteCount(name) > 255 || path.Any(char.IsControl))
                throw new SpeechEmotionException($"{listingUrl}: the listing names an unsafe path '{path}': refused.");
            string target = Path.Combine(destination, dataset.Folder!, name);
            if (File.Exists(target)) continue; // only a checked file is ever renamed there
            string part = Path.Combine(work, name + ".part");
            attempts += await WithRetries(filesUrl + Uri.EscapeDataString(dataset.Folder!) + "/" + Uri.EscapeDataString(name), part, retries, progress, cancellation) - 1;
            if (new FileInfo(part).Length > MaxFileBytes) { File.Delete(part); throw new SpeechEmotionException($"{path}: over {MaxFileBytes:N0} bytes: refused."); }
            if (!Readable(part))
            {
                File.Delete(part);
                throw new SpeechEmotionException($"{filesUrl}{path}: what arrived is not a readable WAV (a Git LFS pointer or an error page?); nothing kept of it.");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            bytes += new FileInfo(part).Length;
            File.Move(part, target, overwrite: true);
            fetched++;
        }
        Directory.Delete(work, recursive: true);
        return new Result(destination, fetched, bytes, attempts);
    }

    private static bool Readable(string path)
    {
        try { Audio.AudioReader.Read(path); return true; }
        catch (Audio.AudioException) { return false; }
    }

    /// <summary>Fetches <paramref name="url"/> into <paramref name="part"/>, resuming after a broken connection; the attempts it took.</summary>
    private async Task<int> WithRetries(string url, string part, int retries, Action<long, long?>? progress, CancellationToken cancellation)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { await FetchAsync(url, part, progress, cancellation); return attempt; }
            catch (Exception e) when (e is HttpRequestException or IOException && !cancellation.IsCancellationRequested)
            {
                long have = File.Exists(part) ? new FileInfo(part).Length : 0;
                if (attempt > retries)
                    throw new SpeechEmotionException($"{url}: download failed after {attempt} attempt(s) with {have:N0} bytes received ({e.Message}). " +
                        $"Run the same command again to resume from {part}.");
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellation);
            }
        }
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

    /// <summary>What an archive may hold before it is refused as hostile or broken.</summary>
    public sealed record Limits(long MaxEntryBytes = 1L << 30, long MaxTotalBytes = 64L << 30, double MaxRatio = 200, int MaxDepth = 2)
    {
        public static readonly Limits Default = new();
    }

    /// <summary>
    /// Unpacks the WAV files of a zip (also from zips inside it, <see cref="Limits.MaxDepth"/> deep) into
    /// <paramref name="destination"/>: every entry streamed to a staging folder beside the zip, its CRC-32 checked as
    /// it is copied, and only when all are good moved into place — a corrupt or hostile archive leaves nothing
    /// behind. Refused with a message naming the entry: a CRC mismatch, an entry larger than the limit or than it
    /// declares, a compression ratio beyond the limit (a zip bomb), two entries for one file, an unsafe path, or a
    /// name longer than the file system takes (255 bytes).
    /// </summary>
    public static int Unpack(string zipPath, string destination, Limits? limits = null)
    {
        limits ??= Limits.Default;
        string staging = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(zipPath))!, ".unpack-" + Path.GetFileNameWithoutExtension(zipPath));
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            var targets = new Dictionary<string, string>(StringComparer.Ordinal); // "folder/name" → staged file
            long total = 0;
            using (var archive = OpenZip(zipPath))
                Collect(archive, zipPath, staging, targets, limits, depth: 1, ref total);
            if (targets.Count == 0) throw new SpeechEmotionException($"{zipPath}: the archive holds no .wav files: not the corpus.");
            foreach (var (target, staged) in targets)
            {
                string path = Path.Combine(destination, target);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.Move(staged, path, overwrite: true);
            }
            return targets.Count;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private static ZipArchive OpenZip(string path)
    {
        try { return ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new SpeechEmotionException($"{path}: not a valid zip archive ({e.Message}); delete it and download again."); }
    }

    /// <summary>The archive's entries: the central directory is read on first use, so a corrupt one fails here.</summary>
    private static IReadOnlyList<ZipArchiveEntry> Entries(ZipArchive archive, string source)
    {
        try { return archive.Entries; }
        catch (InvalidDataException e) { throw new SpeechEmotionException($"{source}: not a valid zip archive ({e.Message}); delete it and download again."); }
    }

    private static void Collect(ZipArchive archive, string source, string staging, Dictionary<string, string> targets, Limits limits, int depth, ref long total)
    {
        foreach (var entry in Entries(archive, source))
        {
            if (entry.FullName.EndsWith('/')) continue;
            string extension = Path.GetExtension(entry.Name).ToLowerInvariant();
            if (extension is not (".wav" or ".zip")) continue;
            string where = $"{source}: entry '{entry.FullName}'";
            if (entry.Length > limits.MaxEntryBytes)
                throw new SpeechEmotionException($"{where} declares {entry.Length:N0} bytes, over the limit of {limits.MaxEntryBytes:N0}: refused.");
            if (entry.Length > 1 << 20 && entry.Length > limits.MaxRatio * Math.Max(1, entry.CompressedLength))
                throw new SpeechEmotionException($"{where} inflates {entry.Length / (double)Math.Max(1, entry.CompressedLength):F0}-fold, over the limit of {limits.MaxRatio:F0}: refused as a zip bomb.");
            if (Encoding.UTF8.GetByteCount(entry.Name) > 255)
                throw new SpeechEmotionException($"{where} has a file name of {Encoding.UTF8.GetByteCount(entry.Name)} bytes; file systems take 255: refused.");
            var segments = entry.FullName.Replace('\\', '/').Split('/');
            string folder = segments.Length >= 2 ? segments[^2] : "unsorted";
            if (folder is ".." or "." || entry.Name.Contains("..") || Encoding.UTF8.GetByteCount(folder) > 255 || entry.FullName.Any(char.IsControl))
                throw new SpeechEmotionException($"{where} has an unsafe path: refused.");
            string staged = Path.Combine(staging, Path.GetRandomFileName());
            total += Copy(entry, staged, where, limits);
            if (total > limits.MaxTotalBytes)
                throw new SpeechEmotionException($"{source}: the archive unpacks to over {limits.MaxTotalBytes:N0} bytes: refused.");
            if (extension == ".zip")
            {
                if (depth >= limits.MaxDepth) throw new SpeechEmotionException($"{where} is a zip nested {depth + 1} deep, over the limit of {limits.MaxDepth}: refused.");
                using (var nested = OpenZip(staged))
                    Collect(nested, $"{source}!{entry.FullName}", staging, targets, limits, depth + 1, ref total);
                File.Delete(staged);
                continue;
            }
            string target = $"{folder}/{entry.Name}";
            if (!targets.TryAdd(target, staged))
                throw new SpeechEmotionException($"{where}: a second entry for {target}: the archive is ambiguous, refused.");
        }
    }

    /// <summary>Streams one entry to <paramref name="path"/>, at most its declared length, checking its CRC-32.</summary>
    private static long Copy(ZipArchiveEntry entry, string path, string where, Limits limits)
    {
        var buffer = new byte[1 << 16];
        uint crc = 0xFFFFFFFFu;
        long written = 0;
        try
        {
            using var input = entry.Open();
            using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            int read;
            while ((read = input.Read(buffer)) > 0)
            {
                written += read;
                if (written > entry.Length || written > limits.MaxEntryBytes)
                    throw new SpeechEmotionException($"{where} holds more than the {entry.Length:N0} bytes it declares: refused.");
                crc = Crc32.Update(crc, buffer.AsSpan(0, read));
                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException e) { throw new SpeechEmotionException($"{where} cannot be inflated ({e.Message}): the download is corrupt; delete it and download again."); }
        if ((crc ^ 0xFFFFFFFFu) != entry.Crc32 || written != entry.Length)
            throw new SpeechEmotionException($"{where} fails its CRC-32 check: the download is corrupt; delete it and download again.");
        return written;
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
