using FsCheck.Xunit;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Layers;

/// <summary>Central-difference checks of Dense, pooling and softmax cross-entropy, and their known values.</summary>
public class HeadGradientTests
{
    [Property(MaxTest = 60, Arbitrary = [typeof(Generators)])]
    public void DenseGradientsMatchCentralDifferences(DenseCase c)
    {
        var rng = new Rng((ulong)c.Seed);
        var parameters = new ParameterSet();
        var dense = new Dense(c.Input, c.Output, parameters, "fc");
        parameters.Allocate();
        dense.Initialize(rng);
        var x = TestData.Random(rng, c.Batch * c.Input);
        var r = TestData.Random(rng, c.Batch * c.Output);
        var y = new float[c.Batch * c.Output];
        var scratch = new float[c.Input * c.Output];
        double Loss() { dense.Forward(x, y, c.Batch, scratch); return TestData.Dot(y, r); }
        Loss();
        var dx = new float[x.Length];
        dense.Backward(x, r, dx, c.Batch);
        foreach (var tensor in parameters.Tensors)
            TestData.GradientsAgree(TestData.NumericGradient(parameters.Values, tensor.Offset, tensor.Length, Loss, TestData.GradientEpsilon),
                parameters.Gradient(tensor), $"{tensor.Name} ({c})");
        TestData.GradientsAgree(TestData.NumericGradient(x, 0, x.Length, Loss, TestData.GradientEpsilon), dx, $"dx ({c})");
    }

    [Property(MaxTest = 60, Arbitrary = [typeof(Generators)])]
    public void PoolingGradientsMatchCentralDifferences(DenseCase c)
    {
        // Reuse the generator's sizes: Batch → B, Input → T, Output → features.
        var rng = new Rng((ulong)c.Seed);
        int steps = c.Input, batch = c.Batch, features = c.Output;
        var y = TestData.Random(rng, steps * batch * features);
        var lengths = Enumerable.Range(0, batch).Select(_ => 1 + rng.NextInt(steps)).ToArray();
        var r = TestData.Random(rng, batch * features);
        var pooled = new float[batch * features];
        double Mean() { Pooling.MeanForward(y, lengths, steps, batch, features, pooled); return TestData.Dot(pooled, r); }
        var dy = new float[y.Length];
        Pooling.MeanBackward(r, lengths, steps, batch, features, dy);
        TestData.GradientsAgree(TestData.NumericGradient(y, 0, y.Length, Mean, TestData.GradientEpsilon), dy, $"mean dy ({c})");

        // Last pooling reads [L·D, B, H]: use L = 2, D = 2 so only the top layer may receive gradient.
        int hidden = features;
        var final = TestData.Random(rng, 4 * batch * hidden);
        var r2 = TestData.Random(rng, batch * 2 * hidden);
        var pooled2 = new float[batch * 2 * hidden];
        double Last() { Pooling.LastForward(final, 2, 2, batch, hidden, pooled2); return TestData.Dot(pooled2, r2); }
        var dFinal = new float[final.Length];
        Pooling.LastBackward(r2, 2, 2, batch, hidden, dFinal);
        TestData.GradientsAgree(TestData.NumericGradient(final, 0, final.Length, Last, TestData.GradientEpsilon), dFinal, $"last dFinal ({c})");

        // Statistics: the steps alternate around ±2 so that no valid step's deviation is near 0 where σ bends sharply
        // (with one step σ is the constant √floor, its gradient 0); padded steps hold values that must not count.
        var spread = TestData.Random(rng, steps * batch * features);
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                for (int f = 0; f < features; f++)
                    spread[(t * batch + b) * features + f] += t >= lengths[b] ? 50f : t % 2 == 0 ? 2f : -2f;
        var r3 = TestData.Random(rng, 2 * batch * features);
        var pooled3 = new float[2 * batch * features];
        double Stats() { Pooling.StatsForward(spread, lengths, steps, batch, features, pooled3); return TestData.Dot(pooled3, r3); }
        Stats();
        var dSpread = new float[spread.Length];
        Pooling.StatsBackward(r3, pooled3, spread, lengths, steps, batch, features, dSpread);
        TestData.GradientsAgree(TestData.NumericGradient(spread, 0, spread.Length, Stats, TestData.GradientEpsilon), dSpread, $"stats dy ({c})");
    }

    /// <summary>Statistics pooling against the mean and population deviation in double precision (plus the floor), the
    /// padded steps ignored whatever they hold.</summary>
    [Fact]
    public void StatsPoolingIsTheMeanAndTheStandardDeviationOfTheValidSteps()
    {
        var rng = new Rng(11);
        const int steps = 5, batch = 3, features = 4;
        int[] lengths = [5, 1, 3];
        var y = TestData.Random(rng, steps * batch * features, 3f);
        for (int b = 0; b < batch; b++)
            for (int t = lengths[b]; t < steps; t++) y.AsSpan((t * batch + b) * features, features).Fill(float.NaN);
        var pooled = new float[2 * batch * features];
        Pooling.StatsForward(y, lengths, steps, batch, features, pooled);
        for (int b = 0; b < batch; b++)
            for (int f = 0; f < features; f++)
            {
                var values = Enumerable.Range(0, lengths[b]).Select(t => (double)y[(t * batch + b) * features + f]).ToArray();
                double mean = values.Average(), variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
                Assert.Equal(mean, pooled[2 * b * features + f], 1e-5);
                Assert.Equal(Math.Sqrt(variance + Pooling.StatsVarianceFloor), pooled[(2 * b + 1) * features + f], 1e-5);
            }
        Assert.Equal(MathF.Sqrt(Pooling.StatsVarianceFloor), pooled[(2 * 1 + 1) * features]); // one step: no spread, σ is the floor's root
        Assert.Equal(2 * 6, new SpeechEmotion.Core.Models.ClassifierConfig(3, 3, 1, true, PoolingKind.Stats, [4], 2, 0f).PooledSize);
        Assert.Equal(4 * 2 * 6, new SpeechEmotion.Core.Models.SequenceClassifier(new SpeechEmotion.Core.Models.ClassifierConfig(3, 3, 1, true, PoolingKind.Stats, [4], 2, 0f)).Parameters["head.0.weight"].Length);
    }

    [Property(MaxTest = 60, Arbitrary = [typeof(Generators)])]
    public void SoftmaxCrossEntropyGradientMatchesCentralDifferences(DenseCase c)
    {
        var rng = new Rng((ulong)c.Seed);
        int batch = c.Batch, classes = c.Output + 1;
        var logits = TestData.Random(rng, batch * classes, 3f);
        var labels = Enumerable.Range(0, batch).Select(_ => rng.NextInt(classes)).ToArray();
        float[] weights = c.Seed % 2 == 0 ? [] : TestData.Random(rng, classes).Select(w => 1.5f + w).ToArray();
        var probabilities = new float[logits.Length];
        double Loss() => SoftmaxCrossEntropy.Forward(logits, labels, batch, classes, probabilities, weights);
        Loss();
        var dLogits = new float[logits.Length];
        SoftmaxCrossEntropy.Backward(probabilities, labels, batch, classes, dLogits, weights);
        TestData.GradientsAgree(TestData.NumericGradient(logits, 0, logits.Length, Loss, TestData.GradientEpsilon), dLogits, $"dlogits ({c})");
    }

    /// <summary>Smoothed targets, with sample weights in half the cases (unweighted, and weighted with ε = 0 too), on the
    /// labels or on soft targets in their place (mixup's mixtures of two labels, and random distributions).</summary>
    [Property(MaxTest = 90, Arbitrary = [typeof(Generators)])]
    public void SmoothedCrossEntropyGradientMatchesCentralDifferences(DenseCase c)
    {
        var rng = new Rng((ulong)c.Seed);
        int batch = c.Batch, classes = c.Output + 1;
        float smoothing = (c.Seed % 3) switch { 0 => 0.1f, 1 => 0.45f, _ => 0f };
        var logits = TestData.Random(rng, batch * classes, 3f);
        var labels = Enumerable.Range(0, batch).Select(_ => rng.NextInt(classes)).ToArray();
        float[] weights = c.Seed % 2 == 0 ? [] : TestData.Random(rng, batch).Select(w => 1.2f + w).ToArray();
        float[] targets = c.Seed / 6 % 2 == 0 ? [] : SoftTargets(rng, labels, classes);
        var probabilities = new float[logits.Length];
        double Loss() => SoftmaxCrossEntropy.Forward(logits, labels, batch, classes, probabilities, labelSmoothing: smoothing, sampleWeights: weights, targets: targets);
        Loss();
        var dLogits = new float[logits.Length];
        SoftmaxCrossEntropy.Backward(probabilities, labels, batch, classes, dLogits, labelSmoothing: smoothing, sampleWeights: weights, targets: targets);
        TestData.GradientsAgree(TestData.NumericGradient(logits, 0, logits.Length, Loss, TestData.GradientEpsilon), dLogits,
            $"dlogits, ε = {smoothing}, {(weights.Length > 0 ? "sample weights" : "unweighted")}, {(targets.Length > 0 ? "soft targets" : "labels")} ({c})");
    }

    /// <summary>Soft targets [B, C]: even rows a mixture of the row's label and another, as mixup makes them; odd rows a random distribution.</summary>
    private static float[] SoftTargets(Rng rng, int[] labels, int classes)
    {
        var targets = new float[labels.Length * classes];
        for (int b = 0; b < labels.Length; b++)
        {
            var row = targets.AsSpan(b * classes, classes);
            if (b % 2 == 0)
            {
                float share = 0.5f + 0.5f * rng.NextFloat();
                row[labels[b]] += share;
                row[rng.NextInt(classes)] += 1 - share;
                continue;
            }
            for (int k = 0; k < classes; k++) row[k] = rng.NextFloat() + 0.01f;
            float sum = 0;
            foreach (float v in row) sum += v;
            for (int k = 0; k < classes; k++) row[k] /= sum;
        }
        return targets;
    }

    /// <summary>One-hot soft targets are the labels to the bit (loss and gradient, smoothed or not); a mixture's loss is the
    /// same mixture of the two labels' losses; malformed targets are refused.</summary>
    [Fact]
    public void OneHotTargetsAreTheLabelsAndAMixtureMixesTheLosses()
    {
        float[] logits = [1.5f, 0f, -1f, 2f, 1f, 0.25f];
        int[] labels = [0, 2];
        float[] oneHot = [1f, 0f, 0f, 0f, 0f, 1f];
        var probabilities = new float[6];
        foreach (float smoothing in new[] { 0f, 0.1f })
        {
            float plain = SoftmaxCrossEntropy.Forward(logits, labels, 2, 3, probabilities, labelSmoothing: smoothing);
            Assert.Equal(plain, SoftmaxCrossEntropy.Forward(logits, labels, 2, 3, probabilities, labelSmoothing: smoothing, targets: oneHot));
            var dPlain = new float[6]; var dTargets = new float[6];
            SoftmaxCrossEntropy.Backward(probabilities, labels, 2, 3, dPlain, labelSmoothing: smoothing);
            SoftmaxCrossEntropy.Backward(probabilities, labels, 2, 3, dTargets, labelSmoothing: smoothing, targets: oneHot);
            TestData.Identical(dPlain, dTargets, $"one-hot targets against labels, ε = {smoothing}");
        }
        // 0.7 of label 0 and 0.3 of label 1, on one sample: 0.7·ℓ(0) + 0.3·ℓ(1).
        float own = SoftmaxCrossEntropy.Forward(logits.AsSpan(0, 3), [0], 1, 3, probabilities.AsSpan(0, 3));
        float partner = SoftmaxCrossEntropy.Forward(logits.AsSpan(0, 3), [1], 1, 3, probabilities.AsSpan(0, 3));
        Assert.Equal(0.7 * own + 0.3 * partner, SoftmaxCrossEntropy.Forward(logits.AsSpan(0, 3), [0], 1, 3, probabilities.AsSpan(0, 3), targets: [0.7f, 0.3f, 0f]), 5);

        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, labels, 2, 3, probabilities, targets: [0.5f, 0.4f, 0f, 0f, 0f, 1f])); // sums to 0.9
        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, labels, 2, 3, probabilities, targets: [1.5f, -0.5f, 0f, 0f, 0f, 1f]));
        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, labels, 2, 3, probabilities, targets: [1f, 0f, 0f]));
        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Backward(probabilities, labels, 2, 3, new float[6], [1f, 1f, 1f], targets: oneHot));
    }

    [Fact]
    public void SmoothedCrossEntropyMatchesTorchAndZeroSmoothingChangesNoBit()
    {
        float[] logits = [1000f, 0f, -1000f, 2f, 1f, 0f];
        var probabilities = new float[6];
        // torch.nn.functional.cross_entropy(tensor([[1000., 0., -1000.], [2., 1., 0.]]), tensor([0, 2]), label_smoothing=0.1)
        // printed 51.15380859375 (PyTorch 1.13): row 0 is 0.1·mean(0, 1000, 2000), row 1 0.9·L₂ + 0.1·mean(L₀, L₁, L₂).
        Assert.Equal(51.15380859375, SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, labelSmoothing: 0.1f), 4);
        var dSmoothed = new float[6];
        SoftmaxCrossEntropy.Backward(probabilities, [0, 2], 2, 3, dSmoothed, labelSmoothing: 0.1f);
        // Row 0's probabilities are [1, 0, 0]; its target [0.9 + 0.1/3, 0.1/3, 0.1/3]; halved for the batch of two.
        Assert.Equal((1 - (0.9f + 0.1f / 3)) / 2, dSmoothed[0], 6);
        Assert.Equal(-0.1f / 3 / 2, dSmoothed[1], 6);

        float plain = SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities);
        Assert.Equal(plain, SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, labelSmoothing: 0f));
        var d0 = new float[6]; var dPlain = new float[6];
        SoftmaxCrossEntropy.Backward(probabilities, [0, 2], 2, 3, dPlain);
        SoftmaxCrossEntropy.Backward(probabilities, [0, 2], 2, 3, d0, labelSmoothing: 0f);
        TestData.Identical(dPlain, d0, "ε = 0 against no smoothing");

        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, [1f, 1f, 3f], labelSmoothing: 0.1f));
        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, labelSmoothing: 1f));
    }

    /// <summary>Sample weights weigh each sample's whole loss: Σ s_b·ℓ_b / Σ s_b, smoothed or not; weights of one are the
    /// plain mean to the bit; they exclude class weights and must be positive.</summary>
    [Fact]
    public void SampleWeightsWeighEachSamplesWholeLoss()
    {
        float[] logits = [1f, 0f, -1f, 2f, 1f, 0f];
        var probabilities = new float[6];
        foreach (float smoothing in new[] { 0f, 0.1f })
        {
            double first = SoftmaxCrossEntropy.Forward(logits.AsSpan(0, 3), [0], 1, 3, probabilities.AsSpan(0, 3), labelSmoothing: smoothing);
            double second = SoftmaxCrossEntropy.Forward(logits.AsSpan(3, 3), [2], 1, 3, probabilities.AsSpan(0, 3), labelSmoothing: smoothing);
            Assert.Equal((first + 3 * second) / 4, SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, labelSmoothing: smoothing, sampleWeights: [1f, 3f]), 5);
            Assert.Equal(SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, labelSmoothing: smoothing),
                SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, labelSmoothing: smoothing, sampleWeights: [1f, 1f]));
            var plain = new float[6]; var ones = new float[6];
            SoftmaxCrossEntropy.Backward(probabilities, [0, 2], 2, 3, plain, labelSmoothing: smoothing);
            SoftmaxCrossEntropy.Backward(probabilities, [0, 2], 2, 3, ones, labelSmoothing: smoothing, sampleWeights: [1f, 1f]);
            TestData.Identical(plain, ones, $"weights of one, ε {smoothing}");
        }
        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, [1f, 1f, 3f], sampleWeights: [1f, 1f]));
        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, sampleWeights: [1f, 0f]));
        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, sampleWeights: [1f]));
    }

    [Fact]
    public void CrossEntropyKnownValuesAndStability()
    {
        float[] logits = [1000f, 0f, -1000f, 2f, 1f, 0f];
        var probabilities = new float[6];
        float loss = SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities);
        // Row 0: p = [1, 0, 0] → −log 1 = 0; row 1: −log softmax(0 | 2, 1, 0) = log(e² + e + 1) − 0.
        double expected = (0 + Math.Log(Math.Exp(2) + Math.Exp(1) + 1)) / 2;
        Assert.Equal(expected, loss, 5);
        Assert.True(probabilities.All(float.IsFinite));
        Assert.Equal(1f, probabilities[0]);
        var weighted = SoftmaxCrossEntropy.Forward(logits, [0, 2], 2, 3, probabilities, [1f, 1f, 3f]);
        Assert.Equal(3 * Math.Log(Math.Exp(2) + Math.Exp(1) + 1) / 4, weighted, 5);
        Assert.Throws<ShapeException>(() => SoftmaxCrossEntropy.Forward(logits, [0, 3], 2, 3, probabilities));
    }

    [Fact]
    public void DropoutIsInvertedAndSeeded()
    {
        var dropout = new Dropout(0.25f, 10_000);
        var x = Enumerable.Repeat(1f, 10_000).ToArray();
        var y = new float[x.Length];
        dropout.Forward(x, y, training: true, new Rng(9));
        Assert.All(y, v => Assert.True(v == 0f || v == 1f / 0.75f));
        Assert.InRange(y.Count(v => v == 0f), 2_300, 2_700);
        var again = new float[x.Length];
        new Dropout(0.25f, 10_000).Forward(x, again, training: true, new Rng(9));
        Assert.Equal(y, again);
        var dx = new float[x.Length];
        dropout.Backward(x, dx);
        Assert.Equal(y, dx); // the gradient of an all-ones input is the mask itself
        dropout.Forward(x, y, training: false, new Rng(9));
        Assert.Equal(x, y);
        Assert.Throws<OptionsException>(() => new Dropout(1f, 4));
    }
}
