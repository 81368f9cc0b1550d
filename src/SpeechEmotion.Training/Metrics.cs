using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training;

/// <summary>
/// Scores from a confusion matrix (rows = true label, columns = predicted): accuracy, unweighted average recall
/// (UAR, the mean of per-class recalls), macro-F1, and per-class precision, recall and F1. A class never
/// predicted has precision 0 (as scikit-learn's zero_division=0); a class absent from the truth is left out of
/// the macro averages.
/// </summary>
public sealed class Metrics
{
    public Metrics(IReadOnlyList<string> labels, int[,] confusion)
    {
        int k = labels.Count;
        if (confusion.GetLength(0) != k || confusion.GetLength(1) != k)
            throw new ArgumentException($"confusion matrix is {confusion.GetLength(0)}×{confusion.GetLength(1)} for {k} labels.");
        Labels = labels;
        Confusion = confusion;
        Precision = new double[k]; Recall = new double[k]; F1 = new double[k]; Support = new int[k];
        long correct = 0, total = 0;
        for (int c = 0; c < k; c++)
        {
            int truePositive = confusion[c, c], rowSum = 0, columnSum = 0;
            for (int j = 0; j < k; j++) { rowSum += confusion[c, j]; columnSum += confusion[j, c]; }
            Support[c] = rowSum;
            Precision[c] = columnSum == 0 ? 0 : truePositive / (double)columnSum;
            Recall[c] = rowSum == 0 ? 0 : truePositive / (double)rowSum;
            F1[c] = Precision[c] + Recall[c] == 0 ? 0 : 2 * Precision[c] * Recall[c] / (Precision[c] + Recall[c]);
            correct += truePositive;
            total += rowSum;
        }
        Count = (int)total;
        Accuracy = total == 0 ? 0 : correct / (double)total;
        var present = Enumerable.Range(0, k).Where(c => Support[c] > 0).ToArray();
        Uar = present.Length == 0 ? 0 : present.Average(c => Recall[c]);
        MacroF1 = present.Length == 0 ? 0 : present.Average(c => F1[c]);
    }

    /// <summary>Expected calibration error of the probabilities behind the predictions (15 bins), when they were scored with them.</summary>
    public double? Ece { get; init; }

    /// <summary>The ECE a perfectly calibrated model with the same confidences would be expected to score on these rows
    /// (<see cref="Inference.Calibration.ExpectedCalibrationErrorFloor"/>), beside <see cref="Ece"/>: how much of it is
    /// the sample's size.</summary>
    public double? EceFloor { get; init; }

    /// <summary>The same scores for each test speaker (corpus-qualified), when the predictions came with speakers.</summary>
    public IReadOnlyDictionary<string, Metrics> BySpeaker { get; init; } = new Dictionary<string, Metrics>();

    /// <summary>The same scores for each corpus (the part of a speaker's name before ':').</summary>
    public IReadOnlyDictionary<string, Metrics> ByCorpus { get; init; } = new Dictionary<string, Metrics>();

    /// <summary>Scores with the breakdown by speaker and by corpus of <paramref name="speakers"/> (one per prediction).</summary>
    public static Metrics From(IReadOnlyList<string> labels, IReadOnlyList<int> truth, IReadOnlyList<int> predicted, IReadOnlyList<string> speakers, double? ece, double? eceFloor = null)
    {
        Dictionary<string, Metrics> Group(Func<string, string> key) => Enumerable.Range(0, truth.Count).GroupBy(i => key(speakers[i]), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => From(labels, g.Select(i => truth[i]).ToList(), g.Select(i => predicted[i]).ToList()));
        return new Metrics(labels, Tally(labels, truth, predicted))
        {
            Ece = ece, EceFloor = eceFloor, BySpeaker = Group(s => s),
            ByCorpus = Group(SpeakerNames.CorpusOf),
        };
    }

    /// <param name="ece">The expected calibration error of the probabilities the predictions came from, when known.</param>
    public static Metrics From(IReadOnlyList<string> labels, IReadOnlyList<int> truth, IReadOnlyList<int> predicted, double? ece = null)
    {
        return new Metrics(labels, Tally(labels, truth, predicted)) { Ece = ece };
    }

    private static int[,] Tally(IReadOnlyList<string> labels, IReadOnlyList<int> truth, IReadOnlyList<int> predicted)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException($"{truth.Count} true labels but {predicted.Count} predictions.");
        var confusion = new int[labels.Count, labels.Count];
        for (int i = 0; i < truth.Count; i++) confusion[truth[i], predicted[i]]++;
        return confusion;
    }

    public IReadOnlyList<string> Labels { get; }
    public int[,] Confusion { get; }
    public int Count { get; }
    public double Accuracy { get; }
    public double Uar { get; }
    public double MacroF1 { get; }
    public double[] Precision { get; }
    public double[] Recall { get; }
    public double[] F1 { get; }
    public int[] Support { get; }
}
