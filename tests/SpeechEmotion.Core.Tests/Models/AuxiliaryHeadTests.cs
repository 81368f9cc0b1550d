using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Models;

public class AuxiliaryHeadTests
{
    /// <summary>
    /// An auxiliary head's gradients against central differences: with its parameters φ held, the classifier's gradients
    /// are those of J(θ) = L_emotion(θ) + s·L_aux(θ, φ) — reversed for an adversary (s = −λ), shared for a task (s = +μ) —
    /// and the head's own are those of L_aux(φ). A difference that straddles a ReLU kink of the head's hidden layer is
    /// retried at a tenth of the step and skipped only if it still straddles (rare; asserted).
    /// </summary>
    [Theory]
    [InlineData(1, PoolingKind.Mean, -0.5f)]
    [InlineData(2, PoolingKind.Stats, -0.1f)]
    [InlineData(3, PoolingKind.Attention, -1.0f)]
    [InlineData(4, PoolingKind.Mean, 0.3f)]
    public void ClassifierAndHeadGradientsMatchCentralDifferences(int seed, PoolingKind pooling, float scale)
    {
        const int steps = 4, batch = 3, input = 3, speakers = 3;
        var model = new SequenceClassifier(new ClassifierConfig(input, 4, 1, true, pooling, [], 3, 0f), pool: new WorkerPool(1));
        var adversary = new AuxiliaryHead(model.Config.PooledSize, 5, speakers, batch);
        var rng = new Rng((ulong)seed);
        model.Initialize(rng);
        adversary.Initialize(rng);
        if (pooling == PoolingKind.Attention) rng.FillUniform(model.Parameters.Value(model.Parameters["pool.attention"]), -1.5f, 1.5f);
        var x = TestData.Random(rng, steps * batch * input, 2f);
        int[] lengths = [4, 2, 3], labels = [0, 2, 1], who = [2, 0, 1];

        double Emotion() { model.Forward(x, lengths, steps, batch, training: true, rng: null); return model.Loss(labels); }
        double Speaker() { model.Forward(x, lengths, steps, batch, training: true, rng: null); return adversary.Forward(model.Pooled, who, batch); }
        double Objective() => Emotion() + scale * Speaker();
        string Active()
        {
            // The adversary's hidden units' signs at the point just measured (each loss runs the forward to the pooled
            // vector) decide its ReLU's branches: read them through the pooled vector and the first layer.
            var w = adversary.Parameters.Read(adversary.Parameters["auxiliary.0.weight"]);
            var b = adversary.Parameters.Read(adversary.Parameters["auxiliary.0.bias"]);
            var pooled = model.Pooled;
            var bits = new char[batch * adversary.HiddenSize];
            for (int r = 0; r < batch; r++)
                for (int h = 0; h < adversary.HiddenSize; h++)
                {
                    double sum = b[h];
                    for (int i = 0; i < adversary.PooledSize; i++) sum += w[h * adversary.PooledSize + i] * pooled[r * adversary.PooledSize + i];
                    bits[r * adversary.HiddenSize + h] = sum > 0 ? '1' : '0';
                }
            return new string(bits);
        }

        model.Parameters.ZeroGradients();
        adversary.Parameters.ZeroGradients();
        Emotion();
        var pooledGradient = new float[batch * adversary.PooledSize];
        adversary.Forward(model.Pooled, who, batch);
        adversary.Backward(model.Pooled, who, scale, pooledGradient);
        model.Backward(x, labels, pooledGradient: pooledGradient);
        var modelGradients = model.Parameters.Gradients.ToArray();
        var adversaryGradients = adversary.Parameters.Gradients.ToArray();

        string what = $"{pooling}, scale {scale}";
        var (classifierChecked, classifierSkipped) = TestData.GradientsAgreeAcrossKinks(model.Parameters.Values, 0, model.Parameters.Count, modelGradients,
            Objective, Active, 2e-3f, $"classifier ({what})");
        var (adversaryChecked, adversarySkipped) = TestData.GradientsAgreeAcrossKinks(adversary.Parameters.Values, 0, adversary.Parameters.Count, adversaryGradients,
            Speaker, Active, 2e-3f, $"adversary ({what})");
        int checkedCount = classifierChecked + adversaryChecked, straddling = classifierSkipped + adversarySkipped;
        Assert.True(straddling <= 0.05 * checkedCount, $"{straddling} of {checkedCount} differences straddle a ReLU kink");
        Assert.Contains(modelGradients, g => g != 0f);
    }

    /// <summary>With scale 0 the classifier's gradients are the plain ones, bit for bit; the head still learns. Through
    /// TrainStep's extra objective, a head's gradient is added to what the pooled-gradient buffer already holds.</summary>
    [Fact]
    public void ZeroScaleLeavesTheClassifiersGradientsAsTheyWere()
    {
        const int steps = 5, batch = 2, input = 3;
        var model = new SequenceClassifier(new ClassifierConfig(input, 4, 1, true, PoolingKind.Mean, [4], 3, 0f), pool: new WorkerPool(1));
        var rng = new Rng(9);
        model.Initialize(rng);
        var head = new AuxiliaryHead(model.Config.PooledSize, 4, 2, batch);
        head.Initialize(rng);
        var x = TestData.Random(rng, steps * batch * input, 2f);
        int[] lengths = [5, 3], labels = [1, 2], who = [0, 1];
        model.Parameters.ZeroGradients();
        model.Forward(x, lengths, steps, batch, training: false, rng: null);
        model.Backward(x, labels);
        var plain = model.Parameters.Gradients.ToArray();
        model.Parameters.ZeroGradients();
        model.Forward(x, lengths, steps, batch, training: false, rng: null);
        var pooledGradient = new float[batch * head.PooledSize];
        head.Forward(model.Pooled, who, batch);
        head.Backward(model.Pooled, who, 0f, pooledGradient);
        model.Backward(x, labels, pooledGradient: pooledGradient);
        Assert.Equal(plain, model.Parameters.Gradients);
        Assert.Contains(head.Parameters.Gradients, g => g != 0f);

        // Backward adds: twice with scales a and b is once with a + b.
        var twice = new float[pooledGradient.Length];
        head.Backward(model.Pooled, who, 0.25f, twice);
        head.Backward(model.Pooled, who, 0.5f, twice);
        var once = new float[pooledGradient.Length];
        head.Backward(model.Pooled, who, 0.75f, once);
        for (int i = 0; i < once.Length; i++) Assert.Equal(once[i], twice[i], 6);
    }

    [Fact]
    public void BadSettingsAreRefusedNamingThem()
    {
        Assert.Contains("at least 2 classes", Assert.Throws<OptionsException>(() => new AuxiliaryHead(4, 3, 1, 2, name: "adversary")).Message);
        var head = new AuxiliaryHead(4, 3, 2, 2);
        Assert.Throws<InvalidOperationException>(() => head.Backward(new float[8], [0, 1], 0.1f, new float[8]));
        Assert.Throws<ShapeException>(() => head.Forward(new float[12], [0, 1, 0], 3));
        head.Forward(new float[8], [0, 1], 2);
        Assert.Contains("scale", Assert.Throws<OptionsException>(() => head.Backward(new float[8], [0, 1], float.NaN, new float[8])).Message);
    }
}
