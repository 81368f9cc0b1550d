using SpeechEmotion.Core;

namespace SpeechEmotion.Training;

/// <summary>Class probabilities for unlabelled features, normalised as the model's recipe says.</summary>
public static class Predictor
{
    public static IReadOnlyList<float[]> Predict(ModelBundle bundle, IReadOnlyList<Audio.Features> features, bool filesAreOneSpeaker = false) =>
        Predict([bundle], features, filesAreOneSpeaker);

    /// <summary>
    /// An ensemble's probabilities: each model's, averaged (<see cref="Mean"/>). The features are computed once, so
    /// the models must share their front end as well as their labels.
    /// </summary>
    public static IReadOnlyList<float[]> Predict(IReadOnlyList<ModelBundle> ensemble, IReadOnlyList<Audio.Features> features, bool filesAreOneSpeaker = false) =>
        PredictViews(ensemble.Select(bundle => (bundle, features)).ToList(), filesAreOneSpeaker);

    /// <summary>
    /// The average over views: each a model and the files' features as it should see them (test-time augmentation
    /// adds the same files played at the model's training speeds as further views). Every view holds the same files
    /// in the same order; each weighs the same.
    /// </summary>
    public static IReadOnlyList<float[]> PredictViews(IReadOnlyList<(ModelBundle Bundle, IReadOnlyList<Audio.Features> Features)> views, bool filesAreOneSpeaker = false)
    {
        RequireCompatible(views.Select(v => v.Bundle).Distinct().ToList());
        int count = views[0].Features.Count;
        if (views.Any(v => v.Features.Count != count)) throw new ArgumentException("Every view must hold the same files.", nameof(views));
        if (count == 0) return [];
        var mean = Mean(views.Select(view =>
        {
            var (bundle, features) = view;
            var sequences = Experiment.PrepareUnlabelled(bundle.Recipe, bundle.Statistics, features, filesAreOneSpeaker);
            var samples = sequences.Select(s => new Sample(s, -1, "", "")).ToList();
            var batcher = new Batcher(sequences.Max(s => s.Steps), Math.Min(32, samples.Count), bundle.Model.Config.InputSize);
            return Trainer.Predict(bundle.Model, batcher, samples, out _);
        }).ToList());
        int classes = views[0].Bundle.Labels.Count;
        return Enumerable.Range(0, count).Select(i => mean.AsSpan(i * classes, classes).ToArray()).ToList();
    }

    /// <summary>Models that can predict together from one set of features: the same labels and the same front end.</summary>
    public static void RequireCompatible(IReadOnlyList<ModelBundle> ensemble)
    {
        ModelBundle.RequireSameLabels(ensemble);
        var first = ensemble[0];
        foreach (var other in ensemble.Skip(1))
            if (other.Recipe.FrontEnd.Serialize() != first.Recipe.FrontEnd.Serialize())
                throw new OptionsException($"{other.Source} and {first.Source} compute different features ({other.Recipe.FrontEnd.Serialize()} vs {first.Recipe.FrontEnd.Serialize()}): an ensemble needs the same front end.");
    }

    /// <summary>The members' probabilities averaged element by element, each scaled by 1/count then summed in order
    /// (one model's come back unchanged); evaluate and predict both average this way.</summary>
    public static float[] Mean(IReadOnlyList<float[]> members)
    {
        var mean = new float[members[0].Length];
        foreach (var probabilities in members)
            for (int i = 0; i < mean.Length; i++) mean[i] += probabilities[i] / members.Count;
        return mean;
    }
}
