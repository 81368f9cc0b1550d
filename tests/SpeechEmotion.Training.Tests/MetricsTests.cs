namespace SpeechEmotion.Training.Tests;

public class MetricsTests
{
    /// <summary>A 3-class confusion matrix worked by hand.</summary>
    [Fact]
    public void MatchHandComputedScores()
    {
        // rows = true, columns = predicted
        var confusion = new int[,] { { 5, 1, 0 }, { 2, 3, 1 }, { 0, 0, 4 } };
        var m = new Metrics(["a", "b", "c"], confusion);
        Assert.Equal(16, m.Count);
        Assert.Equal(12 / 16.0, m.Accuracy, 12);
        // recall: a 5/6, b 3/6, c 4/4; precision: a 5/7, b 3/4, c 4/5
        Assert.Equal((5 / 6.0 + 3 / 6.0 + 1.0) / 3, m.Uar, 12);
        double f1A = 2 * (5 / 7.0) * (5 / 6.0) / (5 / 7.0 + 5 / 6.0), f1B = 2 * 0.75 * 0.5 / 1.25, f1C = 2 * 0.8 * 1.0 / 1.8;
        Assert.Equal(f1A, m.F1[0], 12);
        Assert.Equal((f1A + f1B + f1C) / 3, m.MacroF1, 12);
        Assert.Equal([6, 6, 4], m.Support);
    }

    [Fact]
    public void NeverPredictedAndAbsentClassesFollowTheDocumentedRules()
    {
        var m = Metrics.From(["a", "b", "c"], [0, 0, 1, 1], [0, 0, 0, 0]);
        Assert.Equal(0.5, m.Accuracy);
        Assert.Equal(0, m.Precision[1]); // b never predicted: precision 0
        Assert.Equal((1.0 + 0.0) / 2, m.Uar); // c absent from the truth: left out of the averages
        Assert.Equal(new[,] { { 2, 0, 0 }, { 2, 0, 0 }, { 0, 0, 0 } }, m.Confusion);
    }

    [Fact]
    public void ScoresBreakDownBySpeakerAndByCorpus()
    {
        string[] speakers = ["tess:YAF", "tess:YAF", "ravdess:01", "ravdess:01", "ravdess:02", "ravdess:02"];
        var m = Metrics.From(["a", "b"], [0, 1, 0, 1, 0, 1], [0, 1, 0, 0, 1, 0], speakers, ece: 0.25);
        Assert.Equal(0.25, m.Ece);
        Assert.Equal(["ravdess:01", "ravdess:02", "tess:YAF"], m.BySpeaker.Keys);
        Assert.Equal((1.0, 0.5, 0.0), (m.BySpeaker["tess:YAF"].Accuracy, m.BySpeaker["ravdess:01"].Accuracy, m.BySpeaker["ravdess:02"].Accuracy));
        Assert.Equal(["ravdess", "tess"], m.ByCorpus.Keys);
        Assert.Equal((4, 0.25), (m.ByCorpus["ravdess"].Count, m.ByCorpus["ravdess"].Accuracy));
        Assert.Equal(m.Accuracy, Metrics.From(["a", "b"], [0, 1, 0, 1, 0, 1], [0, 1, 0, 0, 1, 0]).Accuracy);
    }
}
