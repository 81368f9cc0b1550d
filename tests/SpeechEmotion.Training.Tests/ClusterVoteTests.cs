using FsCheck;
using FsCheck.Xunit;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Training;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Training.Tests;

public class ClusterVoteTests
{
    [Fact]
    public void SummariesAreEachColumnsMeanAndDeviationThenTheLogOfTheFrameCount()
    {
        // Two frames of two columns: column 0 is 1, 3 (mean 2, deviation 1); column 1 is 2, 6 (mean 4, deviation 2).
        var rows = ClusterVote.Summaries([new Audio.Features([1f, 2f, 3f, 6f], 2, 2)], out int width);
        Assert.Equal(5, width);
        Assert.Equal([2f, 4f, 1f, 2f, (float)Math.Log(2)], rows);
    }

    [Fact]
    public void StandardizeColumnsGivesMeanZeroAndUnitDeviationAndZerosAConstantColumn()
    {
        // Three rows of two columns: column 0 is 1, 2, 3 (mean 2, population deviation √(2/3)); column 1 is constant.
        float[] rows = [1f, 5f, 2f, 5f, 3f, 5f];
        ClusterVote.StandardizeColumns(rows, 3, 2);
        float s = (float)Math.Sqrt(1.5);
        Assert.Equal([-s, 0f, 0f, 0f, s, 0f], rows);
    }

    /// <summary>
    /// Groups far apart (centres 20 apart on a random axis, members within ±1 of theirs) come back exactly, up to the
    /// groups' numbering, whatever their number and sizes.
    /// </summary>
    [Property(MaxTest = 60)]
    public bool KMeansRecoversWellSeparatedGroups(PositiveInt seed)
    {
        var rng = new Rng((ulong)seed.Get);
        int k = 2 + rng.NextInt(6), width = 1 + rng.NextInt(5);
        var truth = new List<int>();
        for (int group = 0; group < k; group++)
            for (int m = 1 + rng.NextInt(8); m > 0; m--) truth.Add(group);
        var order = truth.ToArray();
        rng.Shuffle(order.AsSpan());
        var rows = new float[order.Length * width];
        for (int i = 0; i < order.Length; i++)
            for (int j = 0; j < width; j++)
                rows[i * width + j] = (j == order[i] % width ? 20f * (1 + order[i] / width) * (order[i] % 2 == 0 ? 1 : -1) : 0f) + rng.Uniform(-1f, 1f);
        var (assignment, _) = ClusterVote.KMeans(rows, order.Length, width, k, new Rng(7));
        // Same group in truth ⇔ same group found.
        for (int a = 0; a < order.Length; a++)
            for (int b = 0; b < order.Length; b++)
                if ((order[a] == order[b]) != (assignment[a] == assignment[b])) return false;
        return true;
    }

    [Fact]
    public void KMeansIsReproducibleAndItsBestRestartIsNoWorseThanOneStart()
    {
        var rng = new Rng(11);
        var rows = new float[300 * 4];
        rng.FillUniform(rows, -1f, 1f); // no structure: local optima differ between starts
        var (first, inertia) = ClusterVote.KMeans(rows, 300, 4, 6, new Rng(3));
        var (again, inertiaAgain) = ClusterVote.KMeans(rows, 300, 4, 6, new Rng(3));
        Assert.Equal(first, again);
        Assert.Equal(inertia, inertiaAgain);
        for (ulong seed = 1; seed <= 5; seed++)
            Assert.True(inertia <= ClusterVote.KMeans(rows, 300, 4, 6, new Rng(seed), restarts: 1).Inertia + 1e-9);
        // The inertia reported is the assignment's: squared distances to the means of the groups it forms.
        double check = 0;
        for (int c = 0; c < 6; c++)
        {
            var members = Enumerable.Range(0, 300).Where(i => first[i] == c).ToList();
            for (int j = 0; j < 4; j++)
            {
                double mean = members.Average(i => (double)rows[i * 4 + j]);
                check += members.Sum(i => (rows[i * 4 + j] - mean) * (rows[i * 4 + j] - mean));
            }
        }
        Assert.Equal(check, inertia, 3);
    }

    [Fact]
    public void VoteTakesEachGroupsMostFrequentPredictionAndBreaksTiesByProbability()
    {
        // Five utterances, three classes, two groups. Group 0: u0 → 2, u1 → 2, u2 → 0: votes for 2.
        // Group 1: u3 → 0 (0.6), u4 → 1 (0.9): one vote each; class 1 has the larger summed probability (1.0 vs 0.7).
        float[] p =
        [
            0.2f, 0.1f, 0.7f,
            0.1f, 0.3f, 0.6f,
            0.8f, 0.1f, 0.1f,
            0.6f, 0.1f, 0.3f,
            0.1f, 0.9f, 0.0f,
        ];
        Assert.Equal([2, 1], ClusterVote.Vote(p, 3, [0, 0, 0, 1, 1], 2));
    }

    /// <summary>
    /// Whatever the probabilities and groups: each group votes for a label that none of the labels predicted for its
    /// members outnumbers, and a group whose members all agree votes for their label.
    /// </summary>
    [Property(MaxTest = 100)]
    public bool VoteIsAMajorityOfEachGroupsPredictions(PositiveInt seed)
    {
        var rng = new Rng((ulong)seed.Get);
        int classes = 2 + rng.NextInt(6), k = 1 + rng.NextInt(5), n = k + rng.NextInt(40);
        var probabilities = new float[n * classes];
        rng.FillUniform(probabilities, 0f, 1f);
        var assignment = Enumerable.Range(0, n).Select(i => i < k ? i : rng.NextInt(k)).ToArray(); // every group has a member
        var votes = ClusterVote.Vote(probabilities, classes, assignment, k);
        for (int group = 0; group < k; group++)
        {
            var predicted = Enumerable.Range(0, n).Where(i => assignment[i] == group).Select(i => Trainer.Argmax(probabilities, i, classes)).ToList();
            int mostFrequent = predicted.GroupBy(c => c).Max(g => g.Count());
            if (predicted.Count(c => c == votes[group]) != mostFrequent) return false;
            if (predicted.Distinct().Count() == 1 && votes[group] != predicted[0]) return false;
        }
        return true;
    }

    /// <summary>
    /// Three "emotions" that differ in level, movement and length (every summary column tells them apart); the model is right for two of every three utterances
    /// and wrong in varying ways for the third. The vote labels every utterance right, and reads no label.
    /// </summary>
    [Fact]
    public void ApplyLabelsEveryUtteranceWithItsGroupsMajority()
    {
        var rng = new Rng(5);
        var features = new List<Audio.Features>();
        var truth = new List<int>();
        for (int i = 0; i < 60; i++)
        {
            int emotion = i % 3, frames = 20 + emotion * 10 + rng.NextInt(3);
            var values = new float[frames * 2];
            for (int t = 0; t < frames; t++)
            {
                values[2 * t] = 5f * emotion + rng.Uniform(-0.5f, 0.5f) * (1 + emotion);
                values[2 * t + 1] = -3f * emotion + (t % 2 == 0 ? 1 : -1) * (1f + emotion) + rng.Uniform(-0.2f, 0.2f);
            }
            features.Add(new Audio.Features(values, frames, 2));
            truth.Add(emotion);
        }
        var probabilities = new float[60 * 3];
        for (int i = 0; i < 60; i++)
        {
            int predicted = i % 9 < 6 ? truth[i] : (truth[i] + 1 + i % 2) % 3; // 18 of 60 wrong, 6 per emotion
            probabilities[i * 3 + predicted] = 0.8f;
            for (int c = 0; c < 3; c++) if (c != predicted) probabilities[i * 3 + c] = 0.1f;
        }
        Assert.Equal(42, Enumerable.Range(0, 60).Count(i => Trainer.Argmax(probabilities, i, 3) == truth[i]));

        var vote = ClusterVote.Apply(features, probabilities, 3, seed: 1);
        Assert.Equal(truth, vote.Labels);
        Assert.Equal([20, 20, 20], vote.Sizes);
        Assert.Equal([0, 1, 2], vote.ClusterLabel.Order());
    }

    [Fact]
    public void ApplyRefusesFewerUtterancesThanLabels()
    {
        var features = Enumerable.Range(0, 3).Select(i => new Audio.Features([i, 1f], 1, 2)).ToList();
        var e = Assert.Throws<OptionsException>(() => ClusterVote.Apply(features, new float[3 * 7], 7, seed: 1));
        Assert.Contains("at least as many utterances of one voice as there are labels (7); got 3", e.Message);
    }
}
