using SpeechEmotion.Core;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Tests;

/// <summary>Training copies drawn one per utterance per epoch (<c>--copies one</c>): what an epoch trains on.</summary>
public sealed class DrawnCopiesTests
{
    [Fact]
    public void EachEpochTakesOneVersionOfEveryGroupAndOverEpochsEveryVersion()
    {
        // Four utterances, each an original and two copies: indices 0–3 the originals, 4–11 the copies.
        int[][] versions = [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]];
        int[] order = [2, 0, 3, 1];
        var drawn = new int[4];
        var rng = new Rng(7);
        var seen = new HashSet<int>();
        for (int epoch = 0; epoch < 200; epoch++)
        {
            Trainer.DrawVersions(order, versions, rng, drawn);
            for (int i = 0; i < order.Length; i++) Assert.Contains(drawn[i], versions[order[i]]); // one of its own group, in its place
            seen.UnionWith(drawn);
        }
        Assert.Equal(Enumerable.Range(0, 12), seen.Order());

        // The same generator draws the same versions.
        var a = new int[4]; var b = new int[4];
        Trainer.DrawVersions(order, versions, new Rng(3), a);
        Trainer.DrawVersions(order, versions, new Rng(3), b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void WithoutGroupsOrWithGroupsOfOneNothingIsDrawn()
    {
        int[] order = [1, 2, 0];
        var drawn = new int[3];
        var rng = new Rng(11);
        Trainer.DrawVersions(order, null, rng, drawn);
        Assert.Equal(order, drawn);
        Trainer.DrawVersions(order, [[5], [6], [7]], rng, drawn);
        Assert.Equal([6, 7, 5], drawn);
        Assert.Equal(new Rng(11).NextUInt64(), rng.NextUInt64()); // the generator did not move
    }

    private static (SequenceClassifier Model, List<Sample> Samples) Problem(int count)
    {
        var config = new ClassifierConfig(3, 6, 1, true, PoolingKind.Mean, [5], 2, 0f);
        var model = new SequenceClassifier(config);
        model.Initialize(new Rng(2));
        var rng = new Rng(4);
        var samples = new List<Sample>();
        for (int i = 0; i < count; i++)
        {
            int steps = 4 + i % 3, label = i % 2;
            var values = new float[steps * 3];
            for (int k = 0; k < values.Length; k++) values[k] = (float)rng.NextGaussian() + label;
            samples.Add(new Sample(new Sequence(values, steps, 3), label, "s", $"u{i}.wav"));
        }
        return (model, samples);
    }

    [Fact]
    public void GroupsOfOneTrainTheSameBitsAsNoGroups()
    {
        var (plain, samples) = Problem(10);
        var (grouped, _) = Problem(10);
        var options = new TrainOptions(epochs: 3, batchSize: 4, threads: 1);
        new Trainer(plain, options, 8).Train(samples, [], new Rng(9));
        new Trainer(grouped, options, 8).Train(samples, [], new Rng(9), versions: Enumerable.Range(0, 10).Select(i => new[] { i }).ToList());
        Assert.Equal(plain.Parameters.Values, grouped.Parameters.Values);
    }

    [Fact]
    public void AnEpochOfDrawnCopiesCostsWhatTheOriginalsAloneCost()
    {
        // Six originals and two copies of each: 18 samples, but an epoch trains on six — two batches of four, not five.
        var (model, originals) = Problem(6);
        var samples = originals.Concat(originals.Select(s => s with { Input = new Sequence(s.Input.Values.Select(v => 0.5f * v).ToArray(), s.Input.Steps, 3) }))
            .Concat(originals.Select(s => s with { Input = new Sequence(s.Input.Values.Select(v => 2f * v).ToArray(), s.Input.Steps, 3) })).ToList();
        var versions = Enumerable.Range(0, 6).Select(i => new[] { i, i + 6, i + 12 }).ToList();
        var batches = new List<int>();
        var state = new Trainer(model, new TrainOptions(epochs: 2, batchSize: 4, threads: 1), 8)
            .Train(samples, [], new Rng(9), onBatch: (_, n) => batches.Add(n), versions: versions);
        Assert.Equal([2, 2, 2, 2], batches);
        Assert.Equal(2, state.History.Count);

        // A group with an index outside the samples is refused.
        Assert.Throws<ArgumentException>(() => new Trainer(model, new TrainOptions(epochs: 1, threads: 1), 8).Train(samples, [], new Rng(1), versions: [[0, 18]]));
    }

    [Fact]
    public void TheFramesRecipeDrawsAmongItsSingleFileVersionsByDefault()
    {
        var frames = Recipes.Create(RecipeKind.Frames, 4);
        Assert.Equal(Recipes.DefaultFileCopyRelevances, frames.FileCopyRelevances);
        Assert.Equal(Recipes.DefaultFramesWarpFactors, frames.WarpFactors);
        Assert.True(frames.DrawCopies);
        Assert.True(Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(FileCopies: [])).DrawCopies); // the warps alone are drawn too
        // Other normalisations and the seed recipe have neither, so nothing is drawn; speed copies of seed train all.
        Assert.Empty(Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(Normalization: NormalizationMode.Global)).FileCopyRelevances);
        Assert.Empty(Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(Normalization: NormalizationMode.Global)).WarpFactors);
        Assert.Empty(Recipes.Create(RecipeKind.Seed, 4).WarpFactors);
        Assert.False(Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(Normalization: NormalizationMode.Utterance)).DrawCopies);
        Assert.True(Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(Normalization: NormalizationMode.Utterance, SpeedFactors: [0.9])).DrawCopies);
        Assert.False(Recipes.Create(RecipeKind.Seed, 4, new RecipeOverrides(SpeedFactors: [0.9])).DrawCopies);
        Assert.True(Recipes.Create(RecipeKind.Seed, 4, new RecipeOverrides(SpeedFactors: [0.9], DrawCopies: true)).DrawCopies);
        Assert.False(Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(FileCopies: [], WarpFactors: [])).DrawCopies);
        Assert.False(Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(DrawCopies: false)).DrawCopies);

        var error = Assert.Throws<OptionsException>(() => Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(DrawCopies: true, FileCopies: [], WarpFactors: [])));
        Assert.Contains("--copies one", error.Message);
        Assert.True(RecipeOverrides.ParseCopies("one"));
        Assert.False(RecipeOverrides.ParseCopies("ALL"));
        Assert.Contains("--copies must be all or one", Assert.Throws<OptionsException>(() => RecipeOverrides.ParseCopies("some")).Message);
    }
}

/// <summary><c>--file-copies</c>: training versions standardised as <c>ser predict</c> standardises one file.</summary>
public sealed class FileCopiesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-file-copies-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void EachTrainingRecordingGetsOneFileVersionsDrawnWithItsOriginal()
    {
        Cli.Tests.SyntheticEmotions.Create(_root, words: 2);
        // The single-file versions alone (no warps): the original and its two versions.
        var plain = Experiment.Prepare(_root, Recipes.Create(RecipeKind.Frames, 7, new RecipeOverrides(FileCopies: [], WarpFactors: [])), new SplitInfo(Protocol.Speaker, 1, "YAF"), cacheDirectory: null);
        var recipe = Recipes.Create(RecipeKind.Frames, 7, new RecipeOverrides(FileCopies: [0, 64], WarpFactors: []));
        var data = Experiment.Prepare(_root, recipe, new SplitInfo(Protocol.Speaker, 1, "YAF"), cacheDirectory: null);

        // The held-out sides are untouched; the training part holds each recording three times, grouped.
        Assert.Equal(plain.Validation.Select(s => s.Input.Values), data.Validation.Select(s => s.Input.Values));
        Assert.Equal(plain.Test.Select(s => s.Input.Values), data.Test.Select(s => s.Input.Values));
        Assert.Equal(3 * plain.Train.Count, data.Train.Count);
        var groups = data.TrainVersions!;
        Assert.Equal(plain.Train.Count, groups.Count);
        var raw = plain.Extraction.Utterances.Select((u, i) => (u.Path, Features: plain.Extraction.Features[i])).ToDictionary(x => x.Path, x => x.Features);
        for (int g = 0; g < groups.Count; g++)
        {
            Assert.Equal(3, groups[g].Length);
            var original = data.Train[groups[g][0]];
            Assert.Equal(plain.Train[g].Input.Values, original.Input.Values); // the original first, as without copies
            for (int k = 1; k < 3; k++)
            {
                var copy = data.Train[groups[g][k]];
                Assert.Equal((original.Path, original.Label, original.Speaker), (copy.Path, copy.Label, copy.Speaker));
                // Exactly what ser predict gives that file with the relevance of the copy.
                var expected = ModelInputs.OneFile(recipe, data.TrainStatistics, k == 1 ? 0 : 64, raw[copy.Path]);
                Assert.Equal(expected.Values, copy.Input.Values);
                Assert.NotEqual(original.Input.Values, copy.Input.Values);
            }
        }
    }

    [Fact]
    public void FileCopiesNeedSpeakerStatisticsAndSaneRelevances()
    {
        Assert.Contains("--file-copies", Assert.Throws<OptionsException>(() =>
            Recipes.Create(RecipeKind.Seed, 4, new RecipeOverrides(FileCopies: [16]))).Message);
        Assert.Contains("--file-copies", Assert.Throws<OptionsException>(() =>
            Recipes.Create(RecipeKind.Frames, 4, new RecipeOverrides(Normalization: NormalizationMode.Global, FileCopies: [16]))).Message);
        Assert.Equal([0.0, 128.0], RecipeOverrides.ParseFileCopies("0,128"));
        Assert.Empty(RecipeOverrides.ParseFileCopies("none"));
        foreach (var bad in new[] { "-1", "inf", "x", "16,NaN" })
            Assert.Contains("--file-copies takes relevances", Assert.Throws<OptionsException>(() => RecipeOverrides.ParseFileCopies(bad)).Message);
    }
}
