using SpeechEmotion.Core;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training.Tests;

/// <summary>Training with auxiliary heads — a speaker adversary (<see cref="TrainOptions.Adversary"/>) and an arousal task
/// (<see cref="TrainOptions.Arousal"/>) — through the <see cref="Trainer"/>.</summary>
public sealed class AuxiliaryTrainingTests
{
    /// <summary>Twelve short sequences, two classes, from the given speakers in turn.</summary>
    private static (SequenceClassifier Model, List<Sample> Samples) Problem(params string[] speakers) =>
        ToyProblems.Sequences(12, 2, (rng, _, label, i) => (float)rng.NextGaussian() + label + 0.5f * (i % speakers.Length), speakers);

    [Fact]
    public void TheAdversaryTrainsBesideTheModelKeepsItsStateAndRepeatsBitForBit()
    {
        var options = new TrainOptions(epochs: 3, batchSize: 4, threads: 1, adversary: 0.3f);
        var (first, samples) = Problem("corpus:a", "corpus:b", "other:c");
        var state = new Trainer(first, options, 8).Train(samples, [], new Rng(9));
        // 3 speakers: Dense(12 → 64) and Dense(64 → 3), with their Adam moments, all moved from where they started.
        int count = (12 * 64 + 64) + (64 * 3 + 3);
        var adversary = state.Auxiliary["adversary"];
        Assert.Equal(count, adversary.Parameters.Length);
        Assert.Equal(count, adversary.FirstMoment.Length);
        Assert.Contains(adversary.SecondMoment, v => v > 0f);

        var (second, _) = Problem("corpus:a", "corpus:b", "other:c");
        var again = new Trainer(second, options, 8).Train(samples, [], new Rng(9));
        Assert.Equal(first.Parameters.Values, second.Parameters.Values);
        Assert.Equal(adversary.Parameters, again.Auxiliary["adversary"].Parameters);

        // Without the adversary the same run trains other weights and keeps no adversary.
        var (plain, _) = Problem("corpus:a", "corpus:b", "other:c");
        var plainState = new Trainer(plain, new TrainOptions(epochs: 3, batchSize: 4, threads: 1), 8).Train(samples, [], new Rng(9));
        Assert.NotEqual(first.Parameters.Values, plain.Parameters.Values);
        Assert.Empty(plainState.Auxiliary);
    }

    /// <summary>The arousal task trains its own head over two levels beside the adversary, changes the model, and
    /// repeats bit for bit; without the levels, or with labels all of one level, it is refused naming the option.</summary>
    [Fact]
    public void TheArousalTaskTrainsBesideTheAdversary()
    {
        int[] levels = [ArousalLevels.Low, ArousalLevels.High];
        var options = new TrainOptions(epochs: 2, batchSize: 4, threads: 1, adversary: 0.1f, arousal: 0.3f);
        var (first, samples) = Problem("a", "b");
        var state = new Trainer(first, options, 8).Train(samples, [], new Rng(9), arousalLevels: levels);
        Assert.Equal(["adversary", "arousal"], state.Auxiliary.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((12 * 64 + 64) + (64 * 2 + 2), state.Auxiliary["arousal"].Parameters.Length);
        var (second, _) = Problem("a", "b");
        new Trainer(second, options, 8).Train(samples, [], new Rng(9), arousalLevels: levels);
        Assert.Equal(first.Parameters.Values, second.Parameters.Values);
        var (withoutArousal, _) = Problem("a", "b");
        new Trainer(withoutArousal, new TrainOptions(epochs: 2, batchSize: 4, threads: 1, adversary: 0.1f), 8).Train(samples, [], new Rng(9));
        Assert.NotEqual(first.Parameters.Values, withoutArousal.Parameters.Values);

        var arousalOnly = new TrainOptions(epochs: 1, batchSize: 4, threads: 1, arousal: 0.3f);
        Assert.Contains("--arousal", Assert.Throws<OptionsException>(() => new Trainer(Problem("a").Model, arousalOnly, 8).Train(samples, [], new Rng(1))).Message);
        Assert.Contains("all of one level", Assert.Throws<OptionsException>(() =>
            new Trainer(Problem("a").Model, arousalOnly, 8).Train(samples, [], new Rng(1), arousalLevels: [ArousalLevels.Low, ArousalLevels.Low])).Message);
        Assert.Contains("--arousal", Assert.Throws<OptionsException>(() => new TrainOptions(arousal: -1f)).Message);
    }

    [Fact]
    public void ArousalLevelsAreTheDocumentedTableAndNameAnUnknownLabel()
    {
        Assert.Equal([1, 0, 1, 1, 0, 1, 0, 0, 0], ArousalLevels.Of(["angry", "disgust", "fear", "happy", "neutral", "pleasant_surprise", "sad", "calm", "boredom"]));
        Assert.Contains("'laughing'", Assert.Throws<OptionsException>(() => ArousalLevels.Of(["angry", "laughing"])).Message);
    }

    [Fact]
    public void OneSpeakerOrABadWeightIsRefusedNamingTheOption()
    {
        var (model, samples) = Problem("tess:OAF");
        var error = Assert.Throws<OptionsException>(() => new Trainer(model, new TrainOptions(epochs: 1, threads: 1, adversary: 0.1f), 8).Train(samples, [], new Rng(1)));
        Assert.Contains("--adversary", error.Message);
        Assert.Contains("1 speaker(s)", error.Message);
        Assert.Contains("--adversary", Assert.Throws<OptionsException>(() => new TrainOptions(adversary: -0.1f)).Message);
        Assert.Contains("--adversary", Assert.Throws<OptionsException>(() => new TrainOptions(adversary: float.NaN)).Message);
    }
}
