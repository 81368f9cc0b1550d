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
        long maxFileBytes = AudioReader.DefaultMaxBytes, double speed = 1.0, double warp = 1.0, Room? room = null)
    {
        var features = new Audio.Features?[utterances.Count];
        var problems = new CorpusProblem?[utterances.Count];
        int done = 0, fromCache = 0, computed = 0;
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
                var cached = cache?.TryGet(hash);
                if (cached is not null)
                {
                    features[i] = cached;
                    Interlocked.Increment(ref fromCache);
                }
                else
                {
                    // A room's noise is drawn from the file's own content, so the same file always gets the same copy.
                    ulong seed = room is null ? 0 : ulong.Parse(hash.AsSpan(0, 16), System.Globalization.NumberStyles.HexNumber)
                        ^ (ulong)BitConverter.DoubleToInt64Bits(room.Rt60Seconds) ^ ((ulong)BitConverter.DoubleToInt64Bits(room.SnrDb) << 1);
                    var result = frontEnd.Extract(AudioReader.Decode(bytes, path), path, speed, warp, room, seed);
                    cache?.Put(hash, result);
                    features[i] = result;
                    Interlocked.Increment(ref computed);
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

        var kept = new List<Utterance>();
        var keptFeatures = new List<Audio.Features>();
        for (int i = 0; i < utterances.Count; i++)
            if (features[i] is { } f) { kept.Add(utterances[i]); keptFeatures.Add(f); }
        return new ExtractionResult(kept, keptFeatures, problems.Where(p => p is not null).ToList()!, fromCache, computed);
    }
}
