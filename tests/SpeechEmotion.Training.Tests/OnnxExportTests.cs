using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SpeechEmotion.Audio;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;
using SpeechEmotion.Training.Export;

namespace SpeechEmotion.Training.Tests;

/// <summary>
/// ser export's graph, run by ONNX Runtime (the reference consumer; only this test project references it): on padded
/// batches of several lengths, with garbage past each length, its probabilities are ours within 1e-5 — both recipes,
/// 1 and 2 layers, one and both directions, every pooling, with and without a convolution before the LSTM, a temperature. Seeded random weights, scaled up so every
/// gate matters: a gate taken in PyTorch's order (i, f, g, o) where ONNX wants i, o, f, c fails at once.
/// </summary>
public class OnnxExportTests
{
    private static ModelBundle Bundle(RecipeKind kind, int layers, bool bidirectional, PoolingKind pooling, ulong seed, int convKernel = 0)
    {
        var frontEnd = new FrontEndSettings(coefficients: 13, window: WindowMode.Trim, deltas: true);
        int input = kind == RecipeKind.Seed ? 1 : frontEnd.FeatureSize;
        var config = new ClassifierConfig(input, 12, layers, bidirectional, pooling, [10, 6], 5, 0f, convKernel > 0 ? 9 : 0, convKernel);
        var model = new SequenceClassifier(config);
        var rng = new Rng(seed);
        model.Initialize(rng);
        foreach (ref float w in model.Parameters.Values.AsSpan()) w *= 3f;
        foreach (ref float w in model.Parameters.Value(model.DenseLayers[^1].Weight)) w *= 6f; // confident answers
        var stats = new FeatureStats(new float[frontEnd.FeatureSize], Enumerable.Repeat(1f, frontEnd.FeatureSize).ToArray());
        return new ModelBundle(model, ["a", "b", "c", "d", "e"], new Recipe(kind, frontEnd, NormalizationMode.Global, config), stats,
            new SplitInfo(Protocol.Random, seed, null)) { Temperature = 1.7f };
    }

    [Theory]
    [InlineData(RecipeKind.Frames, 1, false, PoolingKind.Last)]
    [InlineData(RecipeKind.Frames, 1, true, PoolingKind.Last)]
    [InlineData(RecipeKind.Frames, 2, true, PoolingKind.Last)]
    [InlineData(RecipeKind.Frames, 2, false, PoolingKind.Mean)]
    [InlineData(RecipeKind.Frames, 1, true, PoolingKind.Mean)]
    [InlineData(RecipeKind.Frames, 2, true, PoolingKind.Attention)]
    [InlineData(RecipeKind.Frames, 1, false, PoolingKind.Attention)]
    [InlineData(RecipeKind.Seed, 1, false, PoolingKind.Last)]
    [InlineData(RecipeKind.Seed, 2, true, PoolingKind.Mean)]
    [InlineData(RecipeKind.Frames, 1, true, PoolingKind.Mean, 5)]
    [InlineData(RecipeKind.Frames, 2, false, PoolingKind.Last, 3)]
    [InlineData(RecipeKind.Frames, 1, true, PoolingKind.Attention, 1)]
    [InlineData(RecipeKind.Frames, 2, true, PoolingKind.Stats)]
    [InlineData(RecipeKind.Frames, 1, false, PoolingKind.Stats)]
    [InlineData(RecipeKind.Frames, 1, true, PoolingKind.Stats, 3)]
    public void OnnxRuntimeGivesOurProbabilities(RecipeKind kind, int layers, bool bidirectional, PoolingKind pooling, int convKernel = 0)
    {
        var bundle = Bundle(kind, layers, bidirectional, pooling, seed: (ulong)(layers * 10 + (bidirectional ? 1 : 0) + (int)pooling * 100 + convKernel * 1000), convKernel);
        using var session = new InferenceSession(OnnxExport.Export(bundle));
        var model = bundle.Model;
        int input = model.Config.InputSize, classes = model.Config.Classes;
        var rng = new Rng(99);
        foreach (int[] lengths in new[] { new[] { 9 }, [9, 1, 6, 4], [3, 3], [13, 2, 7] })
        {
            int steps = lengths.Max(), batch = lengths.Length;
            var x = new float[steps * batch * input];
            rng.FillUniform(x, -2, 2); // past each length too: the graph must ignore it, as we do
            model.Forward(x, lengths, steps, batch, training: false, rng: null);
            var logits = model.Logits.ToArray();

            var feeds = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("features", new DenseTensor<float>(x, [steps, batch, input])),
                NamedOnnxValue.CreateFromTensor("lengths", new DenseTensor<int>(lengths, [batch])),
            };
            using var results = session.Run(feeds);
            var onnxLogits = results.Single(r => r.Name == "logits").AsTensor<float>().ToArray();
            var onnxProbabilities = results.Single(r => r.Name == "probabilities").AsTensor<float>().ToArray();
            Assert.Equal(batch * classes, onnxProbabilities.Length);
            for (int b = 0; b < batch; b++)
            {
                var ours = Softmax(logits.AsSpan(b * classes, classes), bundle.Temperature);
                for (int k = 0; k < classes; k++)
                {
                    Assert.True(Math.Abs(onnxLogits[b * classes + k] - logits[b * classes + k]) <= 1e-4 * Math.Max(1, Math.Abs(logits[b * classes + k])),
                        $"lengths [{string.Join(", ", lengths)}], row {b}, class {k}: logit {onnxLogits[b * classes + k]} vs ours {logits[b * classes + k]}");
                    Assert.True(Math.Abs(onnxProbabilities[b * classes + k] - ours[k]) <= 1e-5,
                        $"lengths [{string.Join(", ", lengths)}], row {b}, class {k}: probability {onnxProbabilities[b * classes + k]} vs ours {ours[k]}");
                }
            }
            Assert.True(onnxProbabilities.Max() > 0.35, $"max {onnxProbabilities.Max()}: the probabilities are far from uniform (0.2), so the comparison means something");
        }
    }

    [Fact]
    public void TheMetadataSaysHowToMakeTheInput()
    {
        var bundle = Bundle(RecipeKind.Frames, 1, true, PoolingKind.Mean, 4);
        using var session = new InferenceSession(OnnxExport.Export(bundle));
        var map = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("a,b,c,d,e", map["speechemotion.labels"]);
        Assert.Equal("frames", map["speechemotion.recipe"]);
        Assert.Equal(bundle.Recipe.FrontEnd.Serialize(), map["speechemotion.front_end"]);
        Assert.Equal(39, map["speechemotion.feature_mean"].Split(',').Length);
        Assert.Equal("1.7", map["speechemotion.temperature"]);
        Assert.Equal("none", map["speechemotion.one_file_relevance"]);
        Assert.Equal("1.7", map["speechemotion.one_file_temperature"]); // none of its own: the model's
        using (var cooler = new InferenceSession(OnnxExport.Export(bundle with { OneFileTemperature = 3.25f })))
            Assert.Equal("3.25", cooler.ModelMetadata.CustomMetadataMap["speechemotion.one_file_temperature"]);
        using (var adapted = new InferenceSession(OnnxExport.Export(bundle with { OneFileRelevance = 128 })))
            Assert.Equal("128", adapted.ModelMetadata.CustomMetadataMap["speechemotion.one_file_relevance"]);
        Assert.Equal("none", map["speechemotion.scoring_window"]);
        using (var windowed = new InferenceSession(OnnxExport.Export(bundle with { ScoringWindow = 65 })))
            Assert.Equal("65", windowed.ModelMetadata.CustomMetadataMap["speechemotion.scoring_window"]);
        Assert.Equal("SpeechEmotion", session.ModelMetadata.ProducerName);
        Assert.Equal(["features", "lengths"], session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["logits", "probabilities"], session.OutputMetadata.Keys.Order(StringComparer.Ordinal));
    }

    private static double[] Softmax(ReadOnlySpan<float> logits, float temperature)
    {
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v / temperature);
        var e = new double[logits.Length];
        for (int k = 0; k < e.Length; k++) e[k] = Math.Exp(logits[k] / temperature - max);
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
