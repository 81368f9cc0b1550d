using FsCheck.Xunit;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Models;

public class ClassifierTests
{
    /// <summary>
    /// The whole model, (convolution,) LSTM to loss, against central differences of every parameter and of the input
    /// (ε = 2e-3, the shared tolerance). A central difference that straddles a ReLU kink (some hidden unit is
    /// active at θ − ε and not at θ + ε, or the reverse) measures no derivative at all: it is retried at ε/10, and
    /// an element that still straddles is skipped; the test asserts those are rare (under 5%). Dropout is on in half the cases: each forward
    /// redraws the mask from the same seed, so the loss is a fixed function of the parameters.
    /// </summary>
    [Property(MaxTest = 60, Arbitrary = [typeof(Generators)])]
    public void EveryGradientOfTheWholeModelMatchesCentralDifferences(ClassifierCase c)
    {
        var config = new ClassifierConfig(c.Input, c.Hidden, c.Layers, c.Bidirectional, c.Pooling, c.DenseSizes, c.Classes, c.Dropout ? 0.3f : 0f,
            c.ConvChannels, c.ConvKernel);
        var model = new SequenceClassifier(config, pool: new WorkerPool(1));
        var rng = new Rng((ulong)c.Seed);
        model.Initialize(rng);
        // Attention's vector starts at zero (uniform weights, the mean); checked away from that special point.
        if (c.Pooling == PoolingKind.Attention) rng.FillUniform(model.Parameters.Value(model.Parameters["pool.attention"]), -1.5f, 1.5f);
        var x = TestData.Random(rng, c.Steps * c.Batch * c.Input, 2f);
        var lengths = Enumerable.Range(0, c.Batch).Select(b => b == 0 ? c.Steps : 1 + rng.NextInt(c.Steps)).ToArray();
        var labels = Enumerable.Range(0, c.Batch).Select(_ => rng.NextInt(c.Classes)).ToArray();
        float[] weights = c.ClassWeights ? Enumerable.Range(0, c.Classes).Select(k => 0.5f + k).ToArray() : [];
        ulong dropoutSeed = (ulong)c.Seed + 1;
        string name = $"{c} dense [{string.Join(", ", c.DenseSizes)}]";
        if (c.ConvChannels > 0) Assert.Equal(c.ConvChannels * c.Input * c.ConvKernel, model.Parameters["conv.weight"].Length);

        double Loss()
        {
            model.Forward(x, lengths, c.Steps, c.Batch, training: true, new Rng(dropoutSeed));
            return model.Loss(labels, weights);
        }
        string ActivePattern() => string.Concat(Enumerable.Range(0, c.DenseSizes.Length)
            .SelectMany(k => model.HeadActivation(k).ToArray()).Concat(model.ConvActivation.ToArray()).Select(v => v > 0f ? '1' : '0'));

        model.Parameters.ZeroGradients();
        Loss();
        model.Backward(x, labels, weights, computeInputGradient: true);
        var dx = model.InputGradient.ToArray();
        var gradients = model.Parameters.Gradients.ToArray();
        model.Parameters.ZeroGradients();
        Loss();
        model.Backward(x, labels, weights, computeInputGradient: true);
        TestData.Identical(gradients, model.Parameters.Gradients, $"gradients recomputed ({name})");

        const float epsilon = 2e-3f;
        int checkedCount = 0, straddling = 0;
        void CheckAll(float[] buffer, int offset, int length, ReadOnlySpan<float> analytic, string what)
        {
            var (n, skipped) = TestData.GradientsAgreeAcrossKinks(buffer, offset, length, analytic, Loss, ActivePattern, epsilon, $"{what} ({name})");
            checkedCount += n; straddling += skipped;
        }
        foreach (var tensor in model.Parameters.Tensors)
            CheckAll(model.Parameters.Values, tensor.Offset, tensor.Length, gradients.AsSpan(tensor.Offset, tensor.Length), tensor.Name);
        CheckAll(x, 0, x.Length, dx, "dx");
        Assert.True(straddling <= 0.05 * checkedCount, $"{straddling} of {checkedCount} differences straddle a ReLU kink ({name})");
    }

    /// <summary>Attention pooling with its vector at zero is the mean; a vector that favours one step moves the
    /// pooled output towards that step; padded steps get no weight.</summary>
    [Fact]
    public void AttentionPoolingStartsAsTheMeanAndWeighsOnlyValidSteps()
    {
        const int steps = 4, batch = 2, features = 3;
        var rng = new Rng(5);
        var y = TestData.Random(rng, steps * batch * features, 1f);
        int[] lengths = [4, 2];
        for (int t = 2; t < steps; t++) y.AsSpan((t * batch + 1) * features, features).Clear(); // the LSTM zeroes padded steps
        var mean = new float[batch * features];
        var attended = new float[batch * features];
        var alpha = new float[steps * batch];
        Pooling.MeanForward(y, lengths, steps, batch, features, mean);
        Pooling.AttentionForward(y, lengths, steps, batch, features, new float[features], alpha, attended);
        for (int i = 0; i < mean.Length; i++) Assert.Equal(mean[i], attended[i], 5);
        Assert.Equal([0f, 0f], new[] { alpha[2 * batch + 1], alpha[3 * batch + 1] });
        Assert.Equal(0.5f, alpha[1], 6);
        // A vector along one step's output (made much longer than the others) gives that step nearly all the weight.
        y.AsSpan(0, features).Fill(3f);
        Pooling.AttentionForward(y, lengths, steps, batch, features, [10f, 10f, 10f], alpha, attended);
        Assert.True(alpha[0] > 0.99f, $"step 0 should dominate sequence 0, got α = {alpha[0]}");
        for (int b = 0; b < batch; b++)
            Assert.Equal(1f, Enumerable.Range(0, steps).Sum(t => alpha[t * batch + b]), 5);
        var model = new SequenceClassifier(new ClassifierConfig(3, 4, 1, true, PoolingKind.Attention, [4], 3, 0f));
        Assert.Equal(new SequenceClassifier(new ClassifierConfig(3, 4, 1, true, PoolingKind.Mean, [4], 3, 0f)).Parameters.Count + 8, model.Parameters.Count);
    }

    [Fact]
    public void SeedRecipeHasTheDocumentedSize()
    {
        var model = new SequenceClassifier(ClassifierConfig.Seed());
        Assert.Equal(306_823, model.Parameters.Count); // Keras' single LSTM bias gives the notebook's 305,799
        Assert.Equal(305_799 + 4 * 256, model.Parameters.Count);
    }

    [Fact]
    public void ConfigValidationNamesTheField()
    {
        var error = Assert.Throws<OptionsException>(() => new ClassifierConfig(3, 0, 1, false, PoolingKind.Mean, [4], 3, 0f));
        Assert.Contains("HiddenSize", error.Message);
        error = Assert.Throws<OptionsException>(() => new ClassifierConfig(3, 4, 1, false, PoolingKind.Mean, [4, -1], 3, 0f));
        Assert.Contains("DenseSizes[1]", error.Message);
        error = Assert.Throws<OptionsException>(() => new ClassifierConfig(3, 4, 1, false, PoolingKind.Mean, [4], 3, 1.5f));
        Assert.Contains("Dropout", error.Message);
        var config = ClassifierConfig.Frames();
        Assert.Equal(config, ClassifierConfig.Parse(config.Serialize()));
    }

    private static (float[] x, int[] lengths, int[] labels) Batch(Rng rng, int steps, int batch, int input, int classes)
    {
        var x = TestData.Random(rng, steps * batch * input);
        var lengths = Enumerable.Range(0, batch).Select(_ => 1 + rng.NextInt(steps)).ToArray();
        var labels = Enumerable.Range(0, batch).Select(_ => rng.NextInt(classes)).ToArray();
        return (x, lengths, labels);
    }

    private static float[] TrainTwentySteps(int threads)
    {
        var config = new ClassifierConfig(8, 48, 2, true, PoolingKind.Mean, [32], 5, 0.2f);
        using var pool = new WorkerPool(threads);
        var model = new SequenceClassifier(config, new AdamOptions(learningRate: 3e-3f, weightDecay: 1e-2f, maxGradientNorm: 1f), pool);
        var rng = new Rng(2024);
        model.Initialize(rng);
        var (x, lengths, labels) = Batch(rng, 30, 24, 8, 5);
        for (int step = 0; step < 20; step++) model.TrainStep(x, lengths, labels, 30, 24, rng);
        return model.Parameters.Values.ToArray();
    }

    [Fact]
    public void SameSeedGivesIdenticalWeightsOnOneAndTwoThreads()
    {
        var first = TrainTwentySteps(1);
        var second = TrainTwentySteps(1);
        var twoThreads = TrainTwentySteps(2);
        TestData.Identical(first, second, "weights, run twice");
        TestData.Identical(first, twoThreads, "weights, 1 vs 2 threads");
        var untrained = new SequenceClassifier(new ClassifierConfig(8, 48, 2, true, PoolingKind.Mean, [32], 5, 0.2f));
        untrained.Initialize(new Rng(2024));
        Assert.NotEqual(untrained.Parameters.Values, first); // training did move the weights
    }

    /// <summary>
    /// Batch-1 inference shares the hidden units between threads at every step; a batch of 9 shares its rows at every
    /// step, one of 20 (a whole row tile per thread) its rows for the whole pass: one utterance must get the same bits
    /// every way, alone or in a batch, on one thread or two.
    /// </summary>
    [Theory]
    [InlineData(9, 0)]
    [InlineData(20, 0)]
    [InlineData(20, 8)]
    public void OneUtteranceGetsTheSameProbabilitiesAloneOrInABatchOnAnyThreadCount(int count, int convChannels)
    {
        var config = new ClassifierConfig(6, 64, 2, true, PoolingKind.Mean, [32], 5, 0f, convChannels, convChannels > 0 ? 3 : 0);
        var rng = new Rng(77);
        var (x, lengths, _) = Batch(rng, 25, count, 6, 5);
        var batched = new float[count * 5];
        using var two = new WorkerPool(2);
        var model = new SequenceClassifier(config, pool: two);
        model.Initialize(new Rng(5));
        model.Predict(x, lengths, 25, count, batched);
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            var alone = new SequenceClassifier(config, pool: pool);
            alone.Initialize(new Rng(5));
            for (int b = 0; b < count; b++)
            {
                var single = new float[lengths[b] * 6];
                for (int t = 0; t < lengths[b]; t++) x.AsSpan((t * count + b) * 6, 6).CopyTo(single.AsSpan(t * 6));
                var probabilities = new float[5];
                alone.Predict(single, [lengths[b]], lengths[b], 1, probabilities);
                TestData.Identical(batched.AsSpan(b * 5, 5).ToArray(), probabilities, $"utterance {b} of {count} alone on {threads} thread(s)");
            }
        }
    }

    /// <summary>
    /// Three classes of noisy 2-feature sequences of varying length: a rising ramp, a falling ramp, and an
    /// oscillation. The classifier must reach ≥ 99% on 300 held-out sequences.
    /// </summary>
    [Fact]
    public void LearnsASmallSequenceTask()
    {
        const int steps = 12, features = 2, classes = 3;
        var rng = new Rng(77);
        (float[] x, int[] lengths, int[] labels) Make(int count)
        {
            var x = new float[steps * count * features];
            var lengths = new int[count];
            var labels = new int[count];
            for (int b = 0; b < count; b++)
            {
                labels[b] = b % classes;
                lengths[b] = 6 + rng.NextInt(steps - 5);
                float phase = rng.Uniform(0f, 6.28f);
                for (int t = 0; t < lengths[b]; t++)
                {
                    float position = t / (float)(lengths[b] - 1);
                    float signal = labels[b] switch { 0 => 2 * position - 1, 1 => 1 - 2 * position, _ => MathF.Sin(phase + 2.5f * t) };
                    x[(t * count + b) * features] = signal + 0.3f * (float)rng.NextGaussian();
                    x[(t * count + b) * features + 1] = 0.5f * (float)rng.NextGaussian();
                }
            }
            return (x, lengths, labels);
        }

        var train = Make(600);
        var test = Make(300);
        var model = new SequenceClassifier(new ClassifierConfig(features, 16, 1, true, PoolingKind.Mean, [16], classes, 0.1f),
            new AdamOptions(learningRate: 1e-2f));
        model.Initialize(rng);
        const int batch = 50;
        var xb = new float[steps * batch * features];
        for (int epoch = 0; epoch < 25; epoch++)
            for (int start = 0; start < 600; start += batch)
            {
                for (int t = 0; t < steps; t++)
                    train.x.AsSpan((t * 600 + start) * features, batch * features).CopyTo(xb.AsSpan(t * batch * features));
                model.TrainStep(xb, train.lengths.AsSpan(start, batch), train.labels.AsSpan(start, batch), steps, batch, rng);
            }
        var probabilities = new float[300 * classes];
        model.Predict(test.x, test.lengths, steps, 300, probabilities);
        int correct = 0;
        for (int b = 0; b < 300; b++)
        {
            var row = probabilities.AsSpan(b * classes, classes);
            if (row.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(row)) == test.labels[b]) correct++;
        }
        Assert.True(correct >= 297, $"accuracy {correct}/300 is below 99%");
    }
}

/// <summary>A prediction-only workspace keeps the weights packed between forwards (ParameterSet.Version): never stale.</summary>
public class PackedWeightCacheTests
{
    private static (SequenceClassifier Model, float[] X, int[] Lengths) Make()
    {
        var model = new SequenceClassifier(new ClassifierConfig(3, 8, 2, true, PoolingKind.Mean, [5], 4, 0f), pool: new WorkerPool(1));
        var rng = new Rng(5);
        model.Initialize(rng);
        var x = TestData.Random(rng, 6 * 2 * 3, 1f);
        return (model, x, [6, 4]);
    }

    private static float[] Predict(SequenceClassifier model, ClassifierWorkspace ws, float[] x, int[] lengths)
    {
        model.Forward(ws, x, lengths, 6, 2, training: false, rng: null);
        return ws.Probabilities.ToArray();
    }

    /// <summary>What a workspace that never saw these weights gives: the reference for a cached one.</summary>
    private static float[] Fresh(SequenceClassifier model, float[] x, int[] lengths) => Predict(model, model.CreateInferenceWorkspace(6, 2), x, lengths);

    [Fact]
    public void RepeatedForwardsGiveTheFirstBits()
    {
        var (model, x, lengths) = Make();
        var ws = model.CreateInferenceWorkspace(6, 2);
        var first = Predict(model, ws, x, lengths);
        Assert.Equal(first, Predict(model, ws, x, lengths));
        Assert.Equal(first, Predict(model, ws, x, lengths));
        Assert.Equal(first, Fresh(model, x, lengths));
    }

    /// <summary>Each kind of weight (LSTM input and recurrent weights and biases of either layer and direction, the head's
    /// weights and biases), changed through a writable view between two forwards on one workspace, is seen by the second.</summary>
    [Fact]
    public void AChangeThroughAWritableViewIsSeenByTheNextForward()
    {
        var (model, x, lengths) = Make();
        var ws = model.CreateInferenceWorkspace(6, 2);
        foreach (var tensor in model.Parameters.Tensors)
        {
            var before = Predict(model, ws, x, lengths);
            // Every element, by different amounts: one element might only feed a dead ReLU, one amount for all logits cancels.
            var values = model.Parameters.Value(tensor);
            for (int i = 0; i < values.Length; i++) values[i] += 0.25f * (1 + i % 3);
            var after = Predict(model, ws, x, lengths);
            Assert.True(!before.SequenceEqual(after), $"{tensor.Name}: the change was not seen");
            Assert.Equal(Fresh(model, x, lengths), after);
        }
    }

    [Fact]
    public void AWriterThatKeptItsViewSaysSoWithMarkChanged()
    {
        var (model, x, lengths) = Make();
        var ws = model.CreateInferenceWorkspace(6, 2);
        float[] kept = model.Parameters.Values;
        var before = Predict(model, ws, x, lengths);
        kept[model.Parameters["lstm.weight_hh_l0"].Offset] += 0.75f;
        model.Parameters.MarkChanged();
        var after = Predict(model, ws, x, lengths);
        Assert.NotEqual(before, after);
        Assert.Equal(Fresh(model, x, lengths), after);
    }

    /// <summary>One workspace used with two models of one shape packs each model's own weights.</summary>
    [Fact]
    public void AnLstmWorkspaceSharedByTwoLstmsPacksEachOnesWeights()
    {
        var shape = new LstmShape(3, 8);
        var setA = new ParameterSet(); var a = new Lstm(shape, setA); setA.Allocate();
        var setB = new ParameterSet(); var b = new Lstm(shape, setB); setB.Allocate();
        a.Initialize(new Rng(1)); b.Initialize(new Rng(2));
        var x = TestData.Random(new Rng(3), 5 * 2 * 3, 1f);
        int[] lengths = [5, 5];
        float[] Run(Lstm lstm, LstmWorkspace ws) { lstm.Forward(ws, x, lengths, 5, 2); return ws.Output.ToArray(); }
        var shared = a.CreateWorkspace(5, 2, forwardOnly: true);
        var outA = Run(a, shared);
        var outB = Run(b, shared);
        Assert.Equal(Run(b, b.CreateWorkspace(5, 2, forwardOnly: true)), outB);
        Assert.Equal(outA, Run(a, shared));
        Assert.NotEqual(outA, outB);
    }
}

public class AllocationTests
{
    /// <summary>Once the workspaces are sized and the code is jitted, a training step allocates no managed memory.</summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(2, 24)]
    public void TrainingStepAllocatesNothing(int threads, int convChannels)
    {
        using var pool = new WorkerPool(threads);
        var model = new SequenceClassifier(new ClassifierConfig(20, 32, 2, true, PoolingKind.Mean, [16], 7, 0.2f, convChannels, convChannels > 0 ? 5 : 0),
            new AdamOptions(maxGradientNorm: 1f), pool);
        var rng = new Rng(4);
        model.Initialize(rng);
        var x = TestData.Random(rng, 40 * 16 * 20);
        var lengths = Enumerable.Range(0, 16).Select(b => 20 + b).ToArray();
        var labels = Enumerable.Range(0, 16).Select(b => b % 7).ToArray();
        // Warm up past tiered compilation, whose background re-JIT allocates on the runtime's threads.
        for (int step = 0; step < 60; step++) model.TrainStep(x, lengths, labels, 40, 16, rng);
        long callerBefore = GC.GetAllocatedBytesForCurrentThread(), workersBefore = pool.WorkerAllocatedBytes, runsBefore = pool.ParallelRuns;
        for (int step = 0; step < 5; step++) model.TrainStep(x, lengths, labels, 40, 16, rng);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - callerBefore);
        Assert.Equal(0, pool.WorkerAllocatedBytes - workersBefore);
        Assert.Equal(threads > 1, pool.ParallelRuns > runsBefore); // the workers really shared the step
    }
}
