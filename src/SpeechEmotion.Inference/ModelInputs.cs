using SpeechEmotion.Core;

namespace SpeechEmotion.Inference;

/// <summary>
/// Features → the model's input sequences, standardised as the recipe says. Training, evaluation and prediction all
/// go through here, so a model never meets inputs prepared differently from the ones it learned on.
/// </summary>
public static class ModelInputs
{
    /// <summary>Seed recipe: the mean vector standardised with the training side's statistics of mean vectors.</summary>
    public static Sequence Standardize(Sequence sequence, FeatureStats stats)
    {
        var values = new float[sequence.Values.Length];
        for (int i = 0; i < values.Length; i++) values[i] = (sequence.Values[i] - stats.Mean[i]) / stats.Std[i];
        return sequence with { Values = values };
    }

    /// <summary>
    /// Inputs for files without labels (prediction), normalised as the recipe says. Under speaker normalisation an
    /// unknown voice's statistics cannot be had from a file or a few: each file is standardised on its own
    /// (<see cref="OneFile"/>: the training side's statistics stored in the model, adapted towards the file's by
    /// <paramref name="oneFileRelevance"/>), so its prediction does not depend on which other files came with it;
    /// <paramref name="filesAreOneSpeaker"/> standardises the files with their own statistics instead, for many
    /// recordings of one voice. (The README reports both: "one file" against "per speaker" in its many-voices table.)
    /// </summary>
    public static IReadOnlyList<Sequence> Unlabelled(Recipe recipe, FeatureStats trainStats, IReadOnlyList<Audio.Features> features,
        bool filesAreOneSpeaker = false, double oneFileRelevance = double.PositiveInfinity)
    {
        if (!recipe.NeedsSpeakerStatistics || !filesAreOneSpeaker)
            return features.Select(f => OneFile(recipe, trainStats, oneFileRelevance, f)).ToList();
        var sessionStats = FeatureStats.Compute(features, recipe.FrontEnd.FeatureSize);
        return features.Select(f => Prepare(recipe, trainStats, sessionStats, f)).ToList();
    }

    /// <summary>
    /// One recording standardised by itself, as <c>ser predict FILE</c> does: where the recipe wants a speaker's
    /// statistics, the training side's adapted towards this file's (<see cref="FeatureStats.AdaptedTo"/>, relevance
    /// <paramref name="relevance"/> frames; +∞ = the training side's as they are), chosen per model on its validation part.
    /// </summary>
    public static Sequence OneFile(Recipe recipe, FeatureStats trainStats, double relevance, Audio.Features f) =>
        Prepare(recipe, trainStats, recipe.NeedsSpeakerStatistics ? trainStats.AdaptedTo(f, relevance) : null, f);

    /// <summary>
    /// One utterance's features → the model's input, standardised as the recipe says: with its speaker's
    /// statistics, its own, or the training side's (for seed, those of the mean vectors, applied after pooling).
    /// Prosody columns always take the speaker's statistics: a pitch or a loudness means something only against the
    /// voice's own range, and standardising them per utterance would erase how high or loud the utterance is.
    /// </summary>
    public static Sequence Prepare(Recipe recipe, FeatureStats trainStats, FeatureStats? speakerStats, Audio.Features f)
    {
        var stats = recipe.Normalization switch
        {
            NormalizationMode.Speaker => speakerStats ?? throw new SpeechEmotionException("Speaker normalisation without the speaker's statistics."),
            NormalizationMode.Utterance => FeatureStats.Compute([f], recipe.FrontEnd.FeatureSize),
            _ => recipe.Kind == RecipeKind.Seed ? null : trainStats,
        };
        if (recipe.FrontEnd.Prosody && recipe.Normalization != NormalizationMode.Speaker) // under speaker normalisation every column has them already
            stats = (stats ?? trainStats).Splice(speakerStats ?? throw new SpeechEmotionException("Prosody features without the speaker's statistics."),
                recipe.FrontEnd.SpectralSize);
        return stats is null ? Standardize(recipe.ToSequence(f.Values, f.Frames, f.FeatureSize), trainStats)
                             : recipe.ToSequence(stats.Apply(f), f.Frames, f.FeatureSize);
    }
}
