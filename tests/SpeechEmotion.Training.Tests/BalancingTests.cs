using SpeechEmotion.Core;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training.Tests;

/// <summary><c>--balance</c>: sample weights that make every class, or every corpus and class, weigh the same.</summary>
public sealed class BalancingTests
{
    private static Sample At(string speaker, int label, int i) => new(new Sequence(new float[3], 1, 3), label, speaker, $"u{i}.wav");

    /// <summary>Six recordings of tess (four of class 0, two of class 1) and two of ravdess (one of each).</summary>
    private static List<Sample> Recordings() =>
    [
        At("tess:YAF", 0, 0), At("tess:YAF", 0, 1), At("tess:OAF", 0, 2), At("tess:OAF", 0, 3), At("tess:YAF", 1, 4), At("tess:OAF", 1, 5),
        At("ravdess:01", 0, 6), At("ravdess:02", 1, 7),
    ];

    [Fact]
    public void EachCellWeighsTheSameInTotalAndTheMeanWeightIsOne()
    {
        var samples = Recordings();
        Assert.Null(Balancing.SampleWeights(samples, null, LossBalance.None));

        // Classes: 5 of class 0, 3 of class 1 → 8 / (2·5) and 8 / (2·3).
        var classes = Balancing.SampleWeights(samples, null, LossBalance.Classes)!;
        Assert.Equal([0.8f, 0.8f, 0.8f, 0.8f, 8f / 6, 8f / 6, 0.8f, 8f / 6], classes);
        // Corpora: cells tess/0 (4), tess/1 (2), ravdess/0 (1), ravdess/1 (1) → 8 / (4·n).
        var corpora = Balancing.SampleWeights(samples, null, LossBalance.Corpora)!;
        Assert.Equal([0.5f, 0.5f, 0.5f, 0.5f, 1f, 1f, 2f, 2f], corpora);
        foreach (var weights in new[] { classes, corpora }) Assert.Equal(1.0, weights.Average(w => (double)w), 6);
        Assert.Equal(corpora.Take(6).Sum(), corpora.Skip(6).Sum(), 5); // the two corpora weigh the same

        // A corpus balanced in itself with one corpus weighs every sample 1: the plain loss.
        Assert.All(Balancing.SampleWeights(samples.Take(2).Concat(samples.Skip(4).Take(2)).ToList(), null, LossBalance.Corpora)!, w => Assert.Equal(1f, w));
    }

    [Fact]
    public void RecordingsAreCountedNotTheirCopies()
    {
        // Each recording of Recordings() with one copy (indices 8–15): the weights are those of the recordings alone,
        // and every copy carries its recording's.
        var originals = Recordings();
        var samples = originals.Concat(originals.Select((s, i) => s with { Path = $"copy{i}.wav" })).ToList();
        var versions = Enumerable.Range(0, 8).Select(i => new[] { i, i + 8 }).ToList();
        var weights = Balancing.SampleWeights(samples, versions, LossBalance.Corpora)!;
        Assert.Equal(Balancing.SampleWeights(originals, null, LossBalance.Corpora)!, weights.Take(8));
        Assert.Equal(weights.Take(8), weights.Skip(8));
        // Copies trained all at once (no groups) count twice everywhere: the same ratios, the same weights.
        Assert.Equal(weights, Balancing.SampleWeights(samples, null, LossBalance.Corpora)!);
    }

    [Fact]
    public void TheOptionIsParsedAndNamed()
    {
        foreach (var balance in Enum.GetValues<LossBalance>()) Assert.Equal(balance, Balancing.Parse(Balancing.Name(balance)));
        Assert.Equal(LossBalance.Corpora, Balancing.Parse("CORPORA"));
        Assert.Contains("--balance must be none, classes or corpora, got 'speakers'", Assert.Throws<OptionsException>(() => Balancing.Parse("speakers")).Message);
        Assert.Equal(LossBalance.None, Recipes.DefaultBalance);
        // The corpus of a cell is the speaker's qualifier, as the per-corpus scores read it.
        Assert.Equal("ravdess", SpeechEmotion.Training.Corpus.SpeakerNames.CorpusOf("ravdess:07"));
        Assert.Equal("unknown", SpeechEmotion.Training.Corpus.SpeakerNames.CorpusOf("YAF"));
    }

    private static (SequenceClassifier Model, List<Sample> Samples) Problem(int count, Func<int, int> label)
    {
        var model = new SequenceClassifier(new ClassifierConfig(3, 6, 1, true, PoolingKind.Mean, [5], 2, 0f));
        model.Initialize(new Rng(2));
        var rng = new Rng(4);
        var samples = new List<Sample>();
        for (int i = 0; i < count; i++)
        {
            int steps = 4 + i % 3;
            var values = new float[steps * 3];
            for (int k = 0; k < values.Length; k++) values[k] = (float)rng.NextGaussian() + label(i);
            samples.Add(new Sample(new Sequence(values, steps, 3), label(i), "c:s", $"u{i}.wav"));
        }
        return (model, samples);
    }

    [Fact]
    public void BalancedClassesTrainThePlainBitsAndImbalancedOnesTrainOtherwise()
    {
        var options = new TrainOptions(epochs: 3, batchSize: 4, threads: 1, labelSmoothing: 0.1f);
        // Alternating labels: both classes the same size, every weight 1, the same bits as no weighting.
        var (plain, samples) = Problem(10, i => i % 2);
        var (balanced, _) = Problem(10, i => i % 2);
        new Trainer(plain, options, 8).Train(samples, [], new Rng(9));
        new Trainer(balanced, new TrainOptions(epochs: 3, batchSize: 4, threads: 1, labelSmoothing: 0.1f, balance: LossBalance.Classes), 8).Train(samples, [], new Rng(9));
        Assert.Equal(plain.Parameters.Values, balanced.Parameters.Values);

        // One class in four: the weights move the training.
        var (rare, rareSamples) = Problem(12, i => i % 4 == 0 ? 1 : 0);
        var (rareBalanced, _) = Problem(12, i => i % 4 == 0 ? 1 : 0);
        new Trainer(rare, options, 8).Train(rareSamples, [], new Rng(9));
        new Trainer(rareBalanced, new TrainOptions(epochs: 3, batchSize: 4, threads: 1, labelSmoothing: 0.1f, balance: LossBalance.Classes), 8).Train(rareSamples, [], new Rng(9));
        Assert.NotEqual(rare.Parameters.Values, rareBalanced.Parameters.Values);
    }
}
