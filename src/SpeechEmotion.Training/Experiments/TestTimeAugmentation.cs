using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Experiments;

/// <summary>
/// Test-time augmentation (inductive): each test utterance is also scored played at the speeds its model was trained
/// with (<c>--augment</c>), and the probabilities of every view averaged with the plain one's. Each (model, speed) pair
/// is one more member of the ensemble average, so every view weighs the same.
/// </summary>
public static class TestTimeAugmentation
{
    /// <summary>The extra members for one model: its test side at each of its training speeds (none without speed perturbation).</summary>
    public static IEnumerable<(ModelBundle Bundle, IReadOnlyList<Sample> Samples)> Views(PreparedData data, ModelBundle bundle, string? cacheDirectory, int threads = 0) =>
        bundle.Recipe.SpeedFactors.Select(speed => (bundle, AtSpeed(data, bundle.Recipe, bundle.Statistics, speed, cacheDirectory, threads)));

    /// <summary>
    /// The test side again, its audio played faster or slower by <paramref name="speed"/> (the speed perturbation of
    /// training, <c>--augment</c>), standardised as the recipe says with <paramref name="trainStats"/> (under
    /// speaker normalisation each (speaker, speed) is a voice of its own, as the training copies are). Same
    /// utterances, labels and order as <see cref="PreparedData.Test"/>: test-time augmentation scores each utterance
    /// on these too and averages, which is inductive — each utterance's score depends on its own audio only, except
    /// for the statistics that speaker normalisation takes from the whole voice.
    /// </summary>
    public static IReadOnlyList<Sample> AtSpeed(PreparedData data, Recipe recipe, FeatureStats trainStats, double speed, string? cacheDirectory,
        int threads = 0, CancellationToken cancellation = default)
    {
        var byPath = data.Split.Where(e => e.Part == Part.Test).ToDictionary(e => e.Utterance.Path, e => e.Utterance, StringComparer.Ordinal);
        var utterances = data.Test.Select(s => byPath[s.Path]).ToList();
        var (extraction, voiceStats) = Experiment.Perturbed(utterances, recipe, cacheDirectory, speed, warp: 1.0, threads, progress: null, cancellation);
        if (extraction.Problems.Count > 0)
            throw new CorpusException($"{extraction.Problems[0].Path}: read at speed 1 but not at speed {speed}: {extraction.Problems[0].Message}");
        return utterances.Select((u, i) => new Sample(ModelInputs.Prepare(recipe, trainStats, voiceStats?[u.Speaker], extraction.Features[i]), data.Test[i].Label, u.Speaker, u.Path)).ToList();
    }
}
