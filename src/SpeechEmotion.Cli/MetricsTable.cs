using SpeechEmotion.Training;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Cli;

/// <summary>Metrics as a terminal table: the headline scores, per-class scores and the confusion matrix.</summary>
public static class MetricsTable
{
    public static void Write(TextWriter output, Metrics m, string title)
    {
        output.WriteLine(title);
        output.WriteLine($"  accuracy {m.Accuracy:P2}   UAR {m.Uar:P2}   macro-F1 {m.MacroF1:P2}" + (m.Ece is { } ece ? $"   ECE {ece:F3}" : "")
            + (m.EceFloor is { } floor ? $" (a calibrated model's, on {m.Count} files: {floor:F3})" : ""));
        int width = Math.Max(9, m.Labels.Max(l => l.Length) + 1);
        output.WriteLine("  " + "".PadRight(width) + " precision   recall       F1  support");
        for (int k = 0; k < m.Labels.Count; k++)
            output.WriteLine($"  {m.Labels[k].PadRight(width)}{m.Precision[k],10:P1}{m.Recall[k],9:P1}{m.F1[k],9:P1}{m.Support[k],9}");
        foreach (var (kind, groups) in new[] { ("corpus", m.ByCorpus), ("speaker", m.BySpeaker) })
            if (groups.Count > 1 && groups.Count <= 30)
                output.WriteLine($"  by {kind}: " + string.Join(", ", groups.Select(g => $"{g.Key} {g.Value.Accuracy:P1} ({g.Value.Count})")));
        output.WriteLine("  confusion (rows = true, columns = predicted):");
        output.WriteLine("  " + "".PadRight(width) + string.Concat(m.Labels.Select(l => Abbreviate(l).PadLeft(6))));
        for (int r = 0; r < m.Labels.Count; r++)
            output.WriteLine("  " + m.Labels[r].PadRight(width) + string.Concat(Enumerable.Range(0, m.Labels.Count).Select(c => m.Confusion[r, c].ToString().PadLeft(6))));
    }

    /// <summary>A cluster vote's groups, one line per test speaker: each group's size and the label it voted for.</summary>
    public static void WriteGroups(TextWriter output, IReadOnlyList<string> labels, IReadOnlyList<(string Speaker, ClusterVoteResult Vote)> votes)
    {
        foreach (var (speaker, vote) in votes)
            output.WriteLine($"Groups of {speaker} ({vote.Cluster.Length} utterances): " +
                string.Join(", ", vote.Sizes.Select((size, j) => $"{size} → {labels[vote.ClusterLabel[j]]}")));
    }

    private static string Abbreviate(string label) => label.Length <= 5 ? label : label[..5];
}
