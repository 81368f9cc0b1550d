using SpeechEmotion.Training.Corpus;
using SpeechEmotion.Training.Features;

namespace SpeechEmotion.Training.Experiments;

/// <summary>
/// Test-time augmentation (inductive): each utterance is also scored through the perturbations its model was trained
/// with — played at its training speeds (<c>--augment</c>) and heard through its warped filter banks (<c>--vtlp</c>) —
/// and the probabilities of every view averaged with the plain one's. Each (model, view) pair is one more member of
/// the ensemble average, so every view weighs the same.
/// </summary>
public static class TestTimeAugmentation
{
    /// <summary>The extra members for one model: its test side through each of its views (<see cref="Heard"/>), each
    /// standardised with its speaker's statistics or, with <paramref name="oneFile"/>, one file at a time.</summary>
    public static IEnumerable<(ModelBundle Bundle, IReadOnlyList<Sample> Samples)> Views(PreparedData data, ModelBundle bundle, string? cacheDirectory,
        int threads = 0, bool oneFile = false) =>
        bundle.Recipe.TestTimeViews.Select(view =>
        {
            var heard = Heard(data, bundle.Recipe, Part.Test, view, cacheDirectory, threads);
            return oneFile ? (bundle.ForOneFile(), heard.OneFile(bundle.Recipe, bundle.Statistics, bundle.OneFileRelevance))
                : (bundle, heard.PerSpeaker(bundle.Recipe, bundle.Statistics));
        });

    /// <summary>
    /// The validation or test part heard through one view: the same utterances, labels and order as
    /// <see cref="PreparedData.ValidationRaw"/> or <see cref="PreparedData.TestRaw"/>. Each (speaker, view) is a voice
    /// of its own, standardised over every recording of that speaker the run read (as the plain view's speakers are,
    /// labels unseen): the recordings of the part's speakers in other parts are heard too (from the cache where
    /// training already heard them).
    /// </summary>
    public static HeardView Heard(PreparedData data, Recipe recipe, Part part, (double Speed, double Warp) view, string? cacheDirectory,
        int threads = 0, CancellationToken cancellation = default)
    {
        var raw = part switch
        {
            Part.Test => data.TestRaw,
            Part.Validation => data.ValidationRaw,
            _ => throw new ArgumentException("Test-time views are of the validation or the test part.", nameof(part)),
        };
        var speakers = raw.Select(r => r.Speaker).ToHashSet(StringComparer.Ordinal);
        var utterances = data.Extraction.Utterances.Where(u => speakers.Contains(u.Speaker)).ToList();
        var (extraction, voiceStats) = Experiment.Perturbed(utterances, recipe, cacheDirectory, view.Speed, view.Warp, threads, progress: null, cancellation);
        var byPath = new Dictionary<string, Audio.Features>(StringComparer.Ordinal);
        for (int i = 0; i < extraction.Utterances.Count; i++) byPath[extraction.Utterances[i].Path] = extraction.Features[i];
        foreach (var r in raw)
            if (!byPath.ContainsKey(r.Path))
            {
                var problem = extraction.Problems.FirstOrDefault(p => p.Path == r.Path);
                throw new CorpusException($"{r.Path}: read plain but not through the view {Recipe.ViewName(view)}: {problem?.Message ?? "no features"}");
            }
        return new HeardView(view, raw.Select(r => r with { Features = byPath[r.Path] }).ToList(), voiceStats);
    }
}

/// <summary>One part heard through one test-time view: its raw features in the part's order, and the statistics of
/// each (speaker, view) voice where the recipe standardises per speaker.</summary>
public sealed record HeardView((double Speed, double Warp) View, IReadOnlyList<RawSample> Raw, IReadOnlyDictionary<string, FeatureStats>? VoiceStats)
{
    /// <summary>Standardised as <see cref="PreparedData.Test"/> is: with the (speaker, view) voice's statistics.</summary>
    public IReadOnlyList<Sample> PerSpeaker(Recipe recipe, FeatureStats trainStats) =>
        Raw.Select(r => new Sample(ModelInputs.Prepare(recipe, trainStats, VoiceStats?[r.Speaker], r.Features), r.Label, r.Speaker, r.Path)).ToList();

    /// <summary>Standardised one file at a time, as <c>ser predict FILE</c> does (<see cref="ModelInputs.OneFile"/>).</summary>
    public IReadOnlyList<Sample> OneFile(Recipe recipe, FeatureStats trainStats, double relevance) =>
        recipe.NeedsSpeakerStatistics
            ? Raw.Select(r => new Sample(ModelInputs.OneFile(recipe, trainStats, relevance, r.Features), r.Label, r.Speaker, r.Path)).ToList()
            : PerSpeaker(recipe, trainStats);
}
