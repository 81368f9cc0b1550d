using SpeechEmotion.Core.IO;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training;

/// <summary>One fold of leave-speakers-out cross-validation: its test speakers, their scores and its run folder.</summary>
public sealed record Fold(int Number, string TestSpeakers, Metrics Metrics, string Directory)
{
    /// <summary>The fold's test side scored one file at a time (inductive), when that differs from <see cref="Metrics"/>.</summary>
    public Metrics? OneFileAtATime { get; init; }
}

/// <summary>
/// The <c>loso</c> protocol's summary: every speaker tested once, by the fold that held them out. Reported as the
/// mean and sample standard deviation of the folds' accuracies (and UARs), and as the pooled confusion matrix of
/// every test utterance (all folds must score the same labels in the same order).
/// </summary>
public sealed record CrossValidation(IReadOnlyList<Fold> Folds)
{
    public const string File = "loso.json";

    public Metrics Pooled { get; } = Pool(Folds);

    public (double Mean, double StandardDeviation) Accuracy => MeanAndDeviation(Folds.Select(f => f.Metrics.Accuracy));
    public (double Mean, double StandardDeviation) Uar => MeanAndDeviation(Folds.Select(f => f.Metrics.Uar));
    public (double Mean, double StandardDeviation) Ece => MeanAndDeviation(Folds.Select(f => f.Metrics.Ece ?? double.NaN));
    /// <summary>The mean over the folds of <see cref="Metrics.EceFloor"/>: the ECE calibrated models would score on folds of these sizes.</summary>
    public (double Mean, double StandardDeviation) EceFloor => MeanAndDeviation(Folds.Select(f => f.Metrics.EceFloor ?? double.NaN));

    /// <summary>The folds' accuracies one file at a time (inductive), when every fold has them.</summary>
    public (double Mean, double StandardDeviation)? OneFileAtATime =>
        Folds.All(f => f.OneFileAtATime is not null) ? MeanAndDeviation(Folds.Select(f => f.OneFileAtATime!.Accuracy)) : null;

    private static Metrics Pool(IReadOnlyList<Fold> folds)
    {
        if (folds.Count == 0) throw new ArgumentException("Cross-validation needs at least one fold.");
        var labels = folds[0].Metrics.Labels;
        if (folds.Any(f => !f.Metrics.Labels.SequenceEqual(labels)))
            throw new ArgumentException("Every fold must score the same labels in the same order.");
        var confusion = new int[labels.Count, labels.Count];
        foreach (var fold in folds)
            for (int r = 0; r < labels.Count; r++)
                for (int c = 0; c < labels.Count; c++) confusion[r, c] += fold.Metrics.Confusion[r, c];
        return new Metrics(labels, confusion);
    }

    public static (double Mean, double StandardDeviation) MeanAndDeviation(IEnumerable<double> values)
    {
        var v = values.ToArray();
        double mean = v.Average();
        double deviation = v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return (mean, deviation);
    }

    /// <summary>loso.json: the pooled scores as in metrics.json, the folds' mean ± deviation, and every fold.</summary>
    public void Write(string directory, SplitInfo split, string recipe, string? testCorpus)
    {
        var extra = new Dictionary<string, object>
        {
            ["folds"] = Folds.Select(f => (object)new Dictionary<string, object>
            {
                ["fold"] = f.Number, ["test_speakers"] = f.TestSpeakers.Split(','), ["test_count"] = f.Metrics.Count,
                ["accuracy"] = f.Metrics.Accuracy, ["uar"] = f.Metrics.Uar, ["ece"] = f.Metrics.Ece ?? double.NaN, ["ece_floor"] = f.Metrics.EceFloor ?? double.NaN, ["run"] = Path.GetFileName(f.Directory),
                ["one_file_at_a_time_accuracy"] = f.OneFileAtATime?.Accuracy ?? f.Metrics.Accuracy,
            }).ToList(),
            ["accuracy_mean"] = Accuracy.Mean, ["accuracy_sd"] = Accuracy.StandardDeviation,
            ["uar_mean"] = Uar.Mean, ["uar_sd"] = Uar.StandardDeviation, ["ece_mean"] = Ece.Mean, ["ece_floor_mean"] = EceFloor.Mean,
        };
        if (OneFileAtATime is { } single) { extra["one_file_at_a_time_accuracy_mean"] = single.Mean; extra["one_file_at_a_time_accuracy_sd"] = single.StandardDeviation; }
        if (testCorpus is not null) extra["loso_corpus"] = testCorpus;
        AtomicFile.WriteAllText(Path.Combine(directory, File), RunFiles.MetricsJson(Pooled, split with { TestSpeaker = null }, recipe, extra, protocol: "loso"));
    }
}
