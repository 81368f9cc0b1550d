using SpeechEmotion.Core;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training;

/// <summary>How the training loss weighs its samples (<c>--balance</c>).</summary>
public enum LossBalance
{
    /// <summary>Every sample weighs the same: the corpora and classes count as often as they occur.</summary>
    None,
    /// <summary>Every class weighs the same in total.</summary>
    Classes,
    /// <summary>Every (corpus, class) pair weighs the same in total: the corpora weigh the same, and so do the classes
    /// within each.</summary>
    Corpora,
}

/// <summary>
/// Sample weights that balance the training loss (<see cref="LossBalance"/>): a sample of cell k (its class, or its
/// corpus and class) weighs R / (K · n_k), R the recordings of the training part, K its cells, n_k the recordings of
/// cell k, so each cell weighs R / K in total and the mean weight over the recordings is 1. Recordings are counted, not
/// versions: with drawn copies a recording is its group of versions, and each version carries its recording's weight.
/// The cross-entropy then divides by the batch's sum of weights (<see cref="SpeechEmotion.Core.Layers.SoftmaxCrossEntropy"/>).
/// </summary>
public static class Balancing
{
    public static string Name(LossBalance balance) => balance switch
    {
        LossBalance.None => "none",
        LossBalance.Classes => "classes",
        LossBalance.Corpora => "corpora",
        _ => throw new ArgumentOutOfRangeException(nameof(balance)),
    };

    /// <summary>--balance: none, classes or corpora.</summary>
    public static LossBalance Parse(string text) => text.ToLowerInvariant() switch
    {
        "none" => LossBalance.None,
        "classes" => LossBalance.Classes,
        "corpora" => LossBalance.Corpora,
        _ => throw new OptionsException($"--balance must be none, classes or corpora, got '{text}'."),
    };

    /// <summary>One weight per training sample, or null for <see cref="LossBalance.None"/>. <paramref name="versions"/>: the
    /// recordings as groups of sample indices (drawn copies), or null when each sample is a recording of its own.</summary>
    public static float[]? SampleWeights(IReadOnlyList<Sample> train, IReadOnlyList<int[]>? versions, LossBalance balance)
    {
        if (balance == LossBalance.None || train.Count == 0) return null;
        string Cell(Sample s) => balance == LossBalance.Classes ? $"{s.Label}" : $"{SpeakerNames.CorpusOf(s.Speaker)}/{s.Label}";
        var recordings = versions?.Select(group => group[0]) ?? Enumerable.Range(0, train.Count);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        int total = 0;
        foreach (int i in recordings)
        {
            string cell = Cell(train[i]);
            counts[cell] = counts.GetValueOrDefault(cell) + 1;
            total++;
        }
        var weights = new float[train.Count];
        for (int i = 0; i < train.Count; i++)
            weights[i] = counts.TryGetValue(Cell(train[i]), out int n) ? (float)((double)total / (counts.Count * n))
                : throw new ArgumentException($"Training sample {i} ({train[i].Path}) belongs to no recording of the groups given.", nameof(versions));
        return weights;
    }
}
