namespace SpeechEmotion.Training;

/// <summary>Class probabilities for unlabelled features, normalised as the model's recipe says.</summary>
public static class Predictor
{
    public static IReadOnlyList<float[]> Predict(ModelBundle bundle, IReadOnlyList<Audio.Features> features, bool filesAreOneSpeaker = false)
    {
        if (features.Count == 0) return [];
        var sequences = Experiment.PrepareUnlabelled(bundle.Recipe, bundle.Statistics, features, filesAreOneSpeaker);
        var samples = sequences.Select(s => new Sample(s, -1, "", "")).ToList();
        var batcher = new Batcher(sequences.Max(s => s.Steps), Math.Min(32, samples.Count), bundle.Model.Config.InputSize);
        var probabilities = Trainer.Predict(bundle.Model, batcher, samples, out _);
        int classes = bundle.Labels.Count;
        return Enumerable.Range(0, samples.Count).Select(i => probabilities.AsSpan(i * classes, classes).ToArray()).ToList();
    }
}
