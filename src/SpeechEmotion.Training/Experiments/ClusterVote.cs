using System.Numerics.Tensors;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Training.Experiments;

/// <summary>One voice's utterances grouped by k-means and the label each group votes for.</summary>
/// <param name="Cluster">[N]: the group of each utterance, 0 … k−1.</param>
/// <param name="ClusterLabel">[k]: the label each group voted for.</param>
/// <param name="Labels">[N]: the voted label of each utterance (its group's).</param>
/// <param name="Inertia">Sum of squared distances of the standardised summaries to their group's centre.</param>
public sealed record ClusterVoteResult(int[] Cluster, int[] ClusterLabel, int[] Labels, double Inertia)
{
    /// <summary>How many utterances each group holds.</summary>
    public int[] Sizes => Enumerable.Range(0, ClusterLabel.Length).Select(j => Cluster.Count(c => c == j)).ToArray();
}

/// <summary>
/// Transductive smoothing over many recordings of one voice, the cluster assumption of semi-supervised learning
/// (Chapelle, Schölkopf and Zien 2006, ch. 1): utterances that lie in one dense group of feature space share a
/// label. The voice's utterances are summarised (every feature column's mean and standard deviation over the
/// frames, and the log of the frame count), the summaries standardised over that voice, grouped by k-means into as
/// many groups as there are labels, and every utterance takes the label its group's members are most often
/// predicted. No label is read: the groups come from the audio alone, the votes from the model's predictions.
/// Within one speaker of TESS the emotions form such groups almost exactly, while a model trained on another
/// voice is right for most but not all members of each — the vote keeps the majority's label.
/// </summary>
public static class ClusterVote
{
    /// <summary>k-means runs from different k-means++ starts; the one with the least inertia is kept.</summary>
    public const int Restarts = 32;

    /// <summary>The generator's seed where no run seed applies (<c>ser predict</c>).</summary>
    public const ulong DefaultSeed = 1;

    /// <summary>Lloyd iterations per run at most; runs on these sizes settle within a few dozen.</summary>
    public const int MaxIterations = 300;

    /// <summary>
    /// The vote for one voice. probabilities: [N × classes], row i for features[i]; the groups are as many as the
    /// classes. Same seed, same groups.
    /// </summary>
    public static ClusterVoteResult Apply(IReadOnlyList<Audio.Features> features, ReadOnlySpan<float> probabilities, int classes, ulong seed)
    {
        if (probabilities.Length != features.Count * classes)
            throw new ArgumentException($"Expected {features.Count} × {classes} probabilities, got {probabilities.Length}.", nameof(probabilities));
        if (features.Count < classes)
            throw new OptionsException($"A cluster vote needs at least as many utterances of one voice as there are labels ({classes}); got {features.Count}.");
        var (cluster, inertia) = Group(features, classes, seed);
        var clusterLabel = Vote(probabilities, classes, cluster, classes);
        return new ClusterVoteResult(cluster, clusterLabel, cluster.Select(c => clusterLabel[c]).ToArray(), inertia);
    }

    /// <summary>One voice's utterances in <paramref name="k"/> groups from their audio alone: summaries, standardised over
    /// the voice, then k-means. Returns each utterance's group and the grouping's inertia.</summary>
    public static (int[] Assignment, double Inertia) Group(IReadOnlyList<Audio.Features> features, int k, ulong seed)
    {
        var summaries = Summaries(features, out int width);
        StandardizeColumns(summaries, features.Count, width);
        return KMeans(summaries, features.Count, width, k, new Rng(seed));
    }

    /// <summary>
    /// features → [N × (2F + 1)]: for each of the F columns its mean over the frames, then each column's standard
    /// deviation (population), then ln(frames). How long an utterance is and how much it moves say as much about
    /// its emotion as its average spectrum.
    /// </summary>
    public static float[] Summaries(IReadOnlyList<Audio.Features> features, out int width)
    {
        if (features.Count == 0) throw new ArgumentException("No utterances to summarise.", nameof(features));
        int size = features[0].FeatureSize;
        width = 2 * size + 1;
        var rows = new float[features.Count * width];
        var mean = new double[size];
        var sumSquares = new double[size];
        for (int i = 0; i < features.Count; i++)
        {
            var f = features[i];
            if (f.FeatureSize != size) throw new ArgumentException($"Utterance {i} has {f.FeatureSize} values per frame, the first has {size}.", nameof(features));
            if (f.Frames < 1) throw new ArgumentException($"Utterance {i} has no frames.", nameof(features));
            Array.Clear(mean); Array.Clear(sumSquares);
            for (int t = 0; t < f.Frames; t++)
                for (int j = 0; j < size; j++) mean[j] += f.Values[t * size + j];
            for (int j = 0; j < size; j++) mean[j] /= f.Frames;
            for (int t = 0; t < f.Frames; t++)
                for (int j = 0; j < size; j++) { double d = f.Values[t * size + j] - mean[j]; sumSquares[j] += d * d; }
            var row = rows.AsSpan(i * width, width);
            for (int j = 0; j < size; j++)
            {
                row[j] = (float)mean[j];
                row[size + j] = (float)Math.Sqrt(sumSquares[j] / f.Frames);
            }
            row[2 * size] = (float)Math.Log(f.Frames);
        }
        return rows;
    }

    /// <summary>rows [N × width], in place: each column to mean 0 and standard deviation 1 over the N rows, so no
    /// column's units decide the distances; a constant column becomes 0.</summary>
    public static void StandardizeColumns(Span<float> rows, int n, int width)
    {
        for (int j = 0; j < width; j++)
        {
            double sum = 0, sumSquares = 0;
            for (int i = 0; i < n; i++) sum += rows[i * width + j];
            double mean = sum / n;
            for (int i = 0; i < n; i++) { double d = rows[i * width + j] - mean; sumSquares += d * d; }
            double std = Math.Sqrt(sumSquares / n);
            for (int i = 0; i < n; i++) rows[i * width + j] = std > 1e-12 ? (float)((rows[i * width + j] - mean) / std) : 0f;
        }
    }

    /// <summary>
    /// k-means (Lloyd's algorithm) from k-means++ starts (Arthur and Vassilvitskii 2007), <paramref name="restarts"/>
    /// times; returns the assignment with the least inertia (the earliest among equals). rows: [N × width].
    /// Each run iterates until no assignment changes; a group left empty keeps its centre.
    /// </summary>
    public static (int[] Assignment, double Inertia) KMeans(ReadOnlySpan<float> rows, int n, int width, int k, Rng rng,
        int restarts = Restarts, int maxIterations = MaxIterations)
    {
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in 1…{n} (the number of rows).");
        if (rows.Length != n * width) throw new ArgumentException($"Expected {n} × {width} values, got {rows.Length}.", nameof(rows));
        if (restarts < 1) throw new ArgumentOutOfRangeException(nameof(restarts), restarts, "restarts must be at least 1.");
        int[]? best = null;
        double bestInertia = double.PositiveInfinity;
        var centres = new float[k * width];
        var sums = new double[k * width];
        var counts = new int[k];
        var nearest = new double[n];
        var assignment = new int[n];
        for (int run = 0; run < restarts; run++)
        {
            SeedCentres(rows, n, width, k, rng, centres, nearest);
            Array.Fill(assignment, -1);
            double inertia = 0;
            for (int iteration = 0; iteration < maxIterations; iteration++)
            {
                bool changed = false;
                inertia = 0;
                for (int i = 0; i < n; i++)
                {
                    var (cluster, distance) = Nearest(rows.Slice(i * width, width), centres, k, width);
                    inertia += distance;
                    if (cluster != assignment[i]) { assignment[i] = cluster; changed = true; }
                }
                if (!changed) break;
                Array.Clear(sums); Array.Clear(counts);
                for (int i = 0; i < n; i++)
                {
                    int c = assignment[i];
                    counts[c]++;
                    for (int j = 0; j < width; j++) sums[c * width + j] += rows[i * width + j];
                }
                for (int c = 0; c < k; c++)
                    if (counts[c] > 0)
                        for (int j = 0; j < width; j++) centres[c * width + j] = (float)(sums[c * width + j] / counts[c]);
            }
            if (inertia < bestInertia) { bestInertia = inertia; best = (int[])assignment.Clone(); }
        }
        return (best!, bestInertia);
    }

    /// <summary>k-means++: the first centre a uniformly drawn row, each next one a row drawn with probability
    /// proportional to its squared distance from the nearest centre so far.</summary>
    private static void SeedCentres(ReadOnlySpan<float> rows, int n, int width, int k, Rng rng, float[] centres, double[] nearest)
    {
        rows.Slice(rng.NextInt(n) * width, width).CopyTo(centres);
        Array.Fill(nearest, double.PositiveInfinity);
        for (int c = 1; c < k; c++)
        {
            double total = 0;
            var previous = centres.AsSpan((c - 1) * width, width);
            for (int i = 0; i < n; i++)
            {
                double d = SquaredDistance(rows.Slice(i * width, width), previous);
                if (d < nearest[i]) nearest[i] = d;
                total += nearest[i];
            }
            int chosen = n - 1;
            if (total > 0)
            {
                double target = rng.NextDouble() * total, running = 0;
                for (int i = 0; i < n; i++)
                {
                    running += nearest[i];
                    if (running > target) { chosen = i; break; }
                }
            }
            else chosen = rng.NextInt(n); // every row sits on a centre already: any row will do
            rows.Slice(chosen * width, width).CopyTo(centres.AsSpan(c * width, width));
        }
    }

    private static (int Cluster, double Distance) Nearest(ReadOnlySpan<float> row, float[] centres, int k, int width)
    {
        int best = 0;
        double bestDistance = double.PositiveInfinity;
        for (int c = 0; c < k; c++)
        {
            double d = SquaredDistance(row, centres.AsSpan(c * width, width));
            if (d < bestDistance) { bestDistance = d; best = c; }
        }
        return (best, bestDistance);
    }

    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double d = TensorPrimitives.Distance(a, b);
        return d * d;
    }

    /// <summary>
    /// Each group's label: the class its members' probabilities most often rank first; ties go to the larger summed
    /// probability, then to the lower class index. A group with no members votes for class 0 (it labels nothing).
    /// probabilities: [N × classes]; assignment: [N] → [k].
    /// </summary>
    public static int[] Vote(ReadOnlySpan<float> probabilities, int classes, ReadOnlySpan<int> assignment, int k)
    {
        if (probabilities.Length != assignment.Length * classes)
            throw new ArgumentException($"Expected {assignment.Length} × {classes} probabilities, got {probabilities.Length}.", nameof(probabilities));
        var votes = new int[k * classes];
        var mass = new double[k * classes];
        for (int i = 0; i < assignment.Length; i++)
        {
            int c = assignment[i];
            if (c < 0 || c >= k) throw new ArgumentOutOfRangeException(nameof(assignment), c, $"group must be in 0…{k - 1}.");
            votes[c * classes + Trainer.Argmax(probabilities, i, classes)]++;
            for (int label = 0; label < classes; label++) mass[c * classes + label] += probabilities[i * classes + label];
        }
        var result = new int[k];
        for (int c = 0; c < k; c++)
        {
            int best = 0;
            for (int label = 1; label < classes; label++)
            {
                int v = votes[c * classes + label], bv = votes[c * classes + best];
                if (v > bv || (v == bv && mass[c * classes + label] > mass[c * classes + best])) best = label;
            }
            result[c] = best;
        }
        return result;
    }

    /// <summary>
    /// Scores an ensemble after a cluster vote (<see cref="ClusterVote"/>, transductive): each test speaker's
    /// utterances are grouped on their own, and each takes its group's majority label. features[i] are the raw
    /// features of the test utterance the members' samples[i] hold; the speaker comes from the corpus, no label is read.
    /// </summary>
    public static (Metrics Metrics, IReadOnlyList<(string Speaker, ClusterVoteResult Vote)> Votes) Score(
        IReadOnlyList<(ModelBundle Bundle, IReadOnlyList<Sample> Samples)> members, IReadOnlyList<Audio.Features> features, ulong seed)
    {
        var (labels, reference, mean) = TrainingRun.Probabilities(members);
        if (features.Count != reference.Count) throw new ArgumentException($"{features.Count} feature sets for {reference.Count} test utterances.", nameof(features));
        int classes = labels.Count;
        var predicted = new int[reference.Count];
        var votes = new List<(string, ClusterVoteResult)>();
        foreach (var speaker in reference.Select(s => s.Speaker).Distinct().Order(StringComparer.Ordinal))
        {
            var rows = Enumerable.Range(0, reference.Count).Where(i => reference[i].Speaker == speaker).ToArray();
            var probabilities = new float[rows.Length * classes];
            for (int r = 0; r < rows.Length; r++) mean.AsSpan(rows[r] * classes, classes).CopyTo(probabilities.AsSpan(r * classes));
            ClusterVoteResult vote;
            try { vote = Apply(rows.Select(i => features[i]).ToList(), probabilities, classes, seed); }
            catch (OptionsException e) { throw new OptionsException($"Test speaker {speaker}: {e.Message}"); }
            for (int r = 0; r < rows.Length; r++) predicted[rows[r]] = vote.Labels[r];
            votes.Add((speaker, vote));
        }
        return (Metrics.From(labels, reference.Select(s => s.Label).ToList(), predicted), votes);
    }
}
