using SpeechEmotion.Audio;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Features;

/// <summary>The features of the utterances that could be read, and what went wrong with the others.</summary>
public sealed record ExtractionResult(IReadOnlyList<Utterance> Utterances, IReadOnlyList<Audio.Features> Features,
    IReadOnlyList<CorpusProblem> Problems, int FromCache, int Computed);

/// <summary>
/// Features for a whole corpus on all cores: each thread has its own <see cref="FrontEnd"/> (NWaves'
/// transforms are not thread-safe), results keep the input order whatever the scheduling, and a bad file is
/// reported and skipped unless <c>stopOnError</c>, which throws the first problem as an <see cref="AudioException"/>.
/// </summary>
public static class FeatureExtraction
{
    public static ExtractionResult ExtractAll(IReadOnlyList<Utterance> utterances, FrontEndSettings settings, FeatureCache? cache,
        int threads = 0, bool stopOnError = false, Action<int, int>? progress = null, CancellationToken cancellation = default,
        long maxFileBytes = AudioReader.DefaultMaxBytes, double speed = 1.0, double warp = 1.0, Room? room = null) =>
        ExtractVersions(utterances, settings, [new FeatureVersion(warp, cache)], threads, stopOnError, progress, cancellation, maxFileBytes, speed, room)[0];

    /// <summary>
    /// Several VTLP versions of a corpus in one pass (<see cref="FeatureVersion"/>: a warp, its cache, the utterances it is
    /// for): each file is read, hashed and, where a version is not cached, decoded and prepared once, its prosody and
    /// power spectra computed once for every version it lacks (<see cref="FrontEnd.Extract(AudioClip, string, IReadOnlyList{double}, double, Room?, ulong)"/>).
    /// Result k is what <see cref="ExtractAll"/> gives for version k alone, bit for bit; a bad file is a problem of
    /// every version it was for.
    /// </summary>
    public static ExtractionResult[] ExtractVersions(IReadOnlyList<Utterance> utterances, FrontEndSettings settings, IReadOnlyList<FeatureVersion> versions,
        int threads = 0, bool stopOnError = false, Action<int, int>? progress = null, CancellationToken cancellation = default,
        long maxFileBytes = AudioReader.DefaultMaxBytes, double speed = 1.0, Room? room = null)
    {
        int count = versions.Count;
        var features = new Audio.Features?[count, utterances.Count];
        var problems = new CorpusProblem?[utterances.Count];
        int done = 0;
        var fromCache = new int[count];
        var computed = new int[count];
        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount,
            CancellationToken = cancellation,
        };
        try
        {
            Run();
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is AudioException) is { } first)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
        }

        void Run() => Parallel.For(0, utterances.Count, options, () => new FrontEnd(settings, maxFileBytes), (i, state, frontEnd) =>
        {
            string path = utterances[i].Path;
            try
            {
                var info = new FileInfo(path);
                if (!info.Exists) throw new AudioException(path, "file not found.");
                if (info.Length > maxFileBytes) throw new AudioException(path, $"file is {info.Length:N0} bytes, over the limit of {maxFileBytes:N0} bytes.");
                byte[] bytes = File.ReadAllBytes(path);
                string hash = FeatureCache.ContentHash(bytes);
                var missing = new List<int>(count);
                for (int k = 0; k < count; k++)
                {
                    if (!versions[k].IsFor(utterances[i])) continue;
                    if (versions[k].Cache?.TryGet(hash) is { } cached)
                    {
                        features[k, i] = cached;
                        Interlocked.Increment(ref fromCache[k]);
                    }
                    else missing.Add(k);
                }
                if (missing.Count > 0)
                {
                    // A room's noise is drawn from the file's own content, so the same file always gets the same copy.
                    ulong seed = room is null ? 0 : ulong.Parse(hash.AsSpan(0, 16), System.Globalization.NumberStyles.HexNumber)
                        ^ (ulong)BitConverter.DoubleToInt64Bits(room.Rt60Seconds) ^ ((ulong)BitConverter.DoubleToInt64Bits(room.SnrDb) << 1);
                    var results = frontEnd.Extract(AudioReader.Decode(bytes, path), path, missing.Select(k => versions[k].Warp).ToArray(), speed, room, seed);
                    for (int j = 0; j < missing.Count; j++)
                    {
                        int k = missing[j];
                        versions[k].Cache?.Put(hash, results[j]);
                        features[k, i] = results[j];
                        Interlocked.Increment(ref computed[k]);
                    }
                }
            }
            catch (AudioException e)
            {
                if (stopOnError) { state.Stop(); throw; }
                problems[i] = new CorpusProblem(path, e.Problem);
            }
            progress?.Invoke(Interlocked.Increment(ref done), utterances.Count);
            return frontEnd;
        }, _ => { });

        var results = new ExtractionResult[count];
        for (int k = 0; k < count; k++)
        {
            var kept = new List<Utterance>();
            var keptFeatures = new List<Audio.Features>();
            var lost = new List<CorpusProblem>();
            for (int i = 0; i < utterances.Count; i++)
            {
                if (!versions[k].IsFor(utterances[i])) continue;
                if (features[k, i] is { } f) { kept.Add(utterances[i]); keptFeatures.Add(f); }
                else if (problems[i] is { } problem) lost.Add(problem);
            }
            results[k] = new ExtractionResult(kept, keptFeatures, lost, fromCache[k], computed[k]);
        }
        return results;
    }
}

/// <summary>One version of a corpus's features: a VTLP warp (1 = none), the cache it is kept in, and the utterances it is
/// for (null: all of them).</summary>
public sealed record FeatureVersion(double Warp, FeatureCache? Cache, IReadOnlySet<Utterance>? Only = null)
{
    public bool IsFor(Utterance utterance) => Only is null || Only.Contains(utterance);
}
