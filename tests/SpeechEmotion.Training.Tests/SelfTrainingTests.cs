using SpeechEmotion.Training;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Training.Tests;

public class SelfTrainingTests
{
    private static Sample Utterance(int i, int label) => new(new Sequence([i], 1, 1), label, "T", $"u{i:D2}.wav");

    [Fact]
    public void UnlabelledRemovesEveryLabelAndKeepsTheRest()
    {
        var samples = new[] { Utterance(0, 3), Utterance(1, 0) };
        var unlabelled = SelfTraining.Unlabelled(samples);
        Assert.All(unlabelled, s => Assert.Equal(-1, s.Label));
        Assert.Equal(samples.Select(s => s.Path), unlabelled.Select(s => s.Path));
        Assert.Same(samples[0].Input, unlabelled[0].Input);
    }

    [Fact]
    public void SelectTakesTheMostConfidentShareOfEachPredictedClassUnderThatLabel()
    {
        // Six utterances, three classes. Predicted class (arg max) and its probability:
        // u0 → 0 (0.9), u1 → 0 (0.6), u2 → 0 (0.7), u3 → 1 (0.5), u4 → 2 (0.8), u5 → 2 (0.4). Class 1 has one.
        float[] p =
        [
            0.9f, 0.05f, 0.05f,
            0.6f, 0.3f, 0.1f,
            0.7f, 0.2f, 0.1f,
            0.2f, 0.5f, 0.3f,
            0.1f, 0.1f, 0.8f,
            0.3f, 0.3f, 0.4f,
        ];
        var unlabelled = SelfTraining.Unlabelled(Enumerable.Range(0, 6).Select(i => Utterance(i, 0)).ToList());

        // Half of each class, rounded up: ⌈1.5⌉ = 2 of class 0 (u0, u2), ⌈0.5⌉ = 1 of class 1 (u3), 1 of class 2 (u4).
        var half = SelfTraining.Select(unlabelled, p, 3, 0.5);
        Assert.Equal(["u00.wav", "u02.wav", "u03.wav", "u04.wav"], half.Select(s => s.Path));
        Assert.Equal([0, 0, 1, 2], half.Select(s => s.Label));

        // A third: ⌈1⌉ = u0 of class 0, and the single best of classes 1 and 2.
        var third = SelfTraining.Select(unlabelled, p, 3, 1.0 / 3);
        Assert.Equal(["u00.wav", "u03.wav", "u04.wav"], third.Select(s => s.Path));

        // Everything: every utterance under its predicted class.
        var all = SelfTraining.Select(unlabelled, p, 3, 1.0);
        Assert.Equal([0, 0, 0, 1, 2, 2], all.Select(s => s.Label));
    }

    [Fact]
    public void SelectBreaksTiesByTheEarlierUtterance()
    {
        float[] p = [0.5f, 0.5f, 0.8f, 0.2f, 0.8f, 0.2f, 0.8f, 0.2f];
        var unlabelled = SelfTraining.Unlabelled(Enumerable.Range(0, 4).Select(i => Utterance(i, 1)).ToList());
        // u0 ties 0.5/0.5 → class 0 (first maximum); u1, u2, u3 all 0.8 for class 0. A quarter of four: u1.
        var chosen = SelfTraining.Select(unlabelled, p, 2, 0.25);
        Assert.Equal(["u01.wav"], chosen.Select(s => s.Path));
    }

    [Fact]
    public void BalanceGivesEveryClassAnEqualShareAndKeepsRowsProbabilities()
    {
        // Four utterances, two classes; the model calls all four class 0, but u2 and u3 lean further to class 1.
        float[] p = [0.99f, 0.01f, 0.95f, 0.05f, 0.7f, 0.3f, 0.6f, 0.4f];
        var q = SelfTraining.Balance(p, 2);
        for (int i = 0; i < 4; i++) Assert.Equal(1.0, q[2 * i] + q[2 * i + 1], 5);
        Assert.Equal(2.0, q[0] + q[2] + q[4] + q[6], 4);
        Assert.Equal(2.0, q[1] + q[3] + q[5] + q[7], 4);
        Assert.Equal([0, 0, 1, 1], Enumerable.Range(0, 4).Select(i => Trainer.Argmax(q, i, 2)));
        // The order within a class is kept: the more a row leaned to a class, the more it still does.
        Assert.True(q[7] > q[5] && q[5] > q[3] && q[3] > q[1]);

        // Already balanced and confident: the labels stay; a zero probability does not pin a cell.
        float[] clear = [1f, 0f, 0f, 1f];
        Assert.Equal([0, 1], Enumerable.Range(0, 2).Select(i => Trainer.Argmax(SelfTraining.Balance(clear, 2), i, 2)));
        Assert.Throws<ArgumentException>(() => SelfTraining.Balance(new float[5], 2));
    }

    [Theory]
    [InlineData(1, 4, 0.2)]
    [InlineData(4, 4, 0.8)]
    [InlineData(1, 1, 0.5)]
    [InlineData(2, 3, 0.5)]
    public void ShareGrowsByRoundAndNeverTakesEverything(int round, int rounds, double expected) =>
        Assert.Equal(expected, SelfTraining.Share(round, rounds), 12);

    [Fact]
    public void BadArgumentsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SelfTraining.Share(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => SelfTraining.Share(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => SelfTraining.Share(1, SelfTraining.MaxRounds + 1));
        var one = SelfTraining.Unlabelled([Utterance(0, 0)]);
        Assert.Throws<ArgumentException>(() => SelfTraining.Select(one, new float[3], 2, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => SelfTraining.Select(one, new float[2], 2, 0));
        var options = Assert.Throws<Core.OptionsException>(() => new TrainRunOptions("d", RecipeKind.Frames, new SplitInfo(Protocol.Speaker, 1, "YAF"),
            new TrainOptions(), "o", null, AdaptRounds: 11));
        Assert.Contains("--adapt", options.Message);
        var balanced = Assert.Throws<Core.OptionsException>(() => new TrainRunOptions("d", RecipeKind.Frames, new SplitInfo(Protocol.Speaker, 1, "YAF"),
            new TrainOptions(), "o", null, BalancedAdaptation: true));
        Assert.Contains("--adapt-balanced", balanced.Message);
    }
}
