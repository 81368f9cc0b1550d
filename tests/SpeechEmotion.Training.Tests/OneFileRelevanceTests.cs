using SpeechEmotion.Audio;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training.Tests;

/// <summary>How a model's one-file standardisation is chosen: by the validation part's one-file accuracy, ties to the larger relevance.</summary>
public sealed class OneFileRelevanceTests
{
    private static readonly string[] Labels = ["a", "b", "c", "d", "e"];

    private static ModelBundle SpeakerModel()
    {
        var frontEnd = new FrontEndSettings(coefficients: 13, window: WindowMode.Trim, deltas: true);
        var config = new ClassifierConfig(frontEnd.FeatureSize, 12, 1, true, PoolingKind.Mean, [10], Labels.Length, 0f);
        var model = new SequenceClassifier(config);
        var rng = new Rng(5);
        model.Initialize(rng);
        foreach (ref float w in model.Parameters.Values.AsSpan()) w *= 3f;
        foreach (ref float w in model.Parameters.Value(model.DenseLayers[^1].Weight)) w *= 6f; // answers that differ by input
        var mean = new float[frontEnd.FeatureSize];
        var std = Enumerable.Repeat(2f, frontEnd.FeatureSize).ToArray();
        return new ModelBundle(model, Labels, new Recipe(RecipeKind.Frames, frontEnd, NormalizationMode.Speaker, config),
            new FeatureStats(mean, std), new SplitInfo(Protocol.Speaker, 5, "x"));
    }

    /// <summary>Validation files far off the training side's centre, each its own way: standardising them by
    /// themselves or not gives other answers.</summary>
    private static List<RawSample> Files(int count, int size, int label = 0)
    {
        var rng = new Rng(9);
        var files = new List<RawSample>();
        for (int i = 0; i < count; i++)
        {
            int frames = 20 + 7 * (i % 4);
            var values = new float[frames * size];
            // Each file off-centre its own way per column (a voice of its own), with frames varying around that.
            var offset = Enumerable.Range(0, size).Select(_ => 3 * rng.NextGaussian()).ToArray();
            for (int k = 0; k < values.Length; k++) values[k] = (float)(offset[k % size] + rng.NextGaussian());
            files.Add(new RawSample(new Audio.Features(values, frames, size), label, "ravdess:0" + (i % 3), $"file{i}.wav"));
        }
        return files;
    }

    private static PreparedData Data(ModelBundle bundle, IReadOnlyList<RawSample> validation) =>
        new(Labels, [], [], [], new Features.ExtractionResult([], [], [], 0, 0), bundle.Statistics, [], [], [], 64) { ValidationRaw = validation };

    private static int[] Answers(ModelBundle bundle, PreparedData data, double relevance)
    {
        var samples = data.OneFileAtATime(bundle.Recipe, data.ValidationRaw, relevance);
        var (_, _, mean) = TrainingRun.Probabilities([(bundle, samples)]);
        return Enumerable.Range(0, samples.Count).Select(i => Trainer.Argmax(mean, i, Labels.Length)).ToArray();
    }

    [Fact]
    public void TheRelevanceWhoseOneFileAnswersAreRightIsChosenTiesToTheLarger()
    {
        var bundle = SpeakerModel();
        int size = bundle.Recipe.FrontEnd.FeatureSize;
        var unlabelled = Data(bundle, Files(24, size));
        // Label every file with what relevance 0 (each file by itself) answers: then 0 scores 100 %, the training side's
        // statistics as they are (+∞) do not, and the fit must take the largest relevance that scores 100 %.
        var truth = Answers(bundle, unlabelled, 0);
        var data = Data(bundle, unlabelled.ValidationRaw.Select((r, i) => r with { Label = truth[i] }).ToList());
        var perfect = TrainingRun.OneFileRelevances.Where(r => Answers(bundle, data, r).SequenceEqual(truth)).ToList();
        Assert.DoesNotContain(double.PositiveInfinity, perfect); // the files are off-centre enough for the choice to matter
        var choice = TrainingRun.FitOneFileRelevance(bundle, data);
        Assert.Equal(perfect.Max(), choice.Relevance);
        Assert.Equal(1.0, choice.ValidationAccuracy);
        Assert.True(choice.UnadaptedValidationAccuracy < 1.0);

        // A file every relevance answers alike, labelled so: all score 100 %, and the tie keeps +∞.
        var answers = TrainingRun.OneFileRelevances.Select(r => Answers(bundle, data, r)).ToList();
        int steady = Enumerable.Range(0, truth.Length).First(i => answers.All(a => a[i] == truth[i]));
        var tied = Data(bundle, [data.ValidationRaw[steady]]);
        var tie = TrainingRun.FitOneFileRelevance(bundle, tied);
        Assert.Equal((double.PositiveInfinity, 1.0), (tie.Relevance, tie.ValidationAccuracy));
    }

    [Fact]
    public void WithoutAValidationPartTheTrainingSidesStatisticsStay()
    {
        var bundle = SpeakerModel();
        var choice = TrainingRun.FitOneFileRelevance(bundle, Data(bundle, []));
        Assert.Equal(double.PositiveInfinity, choice.Relevance);
        Assert.True(double.IsNaN(choice.ValidationAccuracy));
    }
}
