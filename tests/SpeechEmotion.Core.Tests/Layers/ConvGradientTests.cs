using FsCheck.Xunit;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Layers;

/// <summary>Conv1d against the direct sum of its definition (in double precision), against central differences, and
/// its sequences kept apart: what lies past a sequence's length never reaches its outputs or its gradients.</summary>
public class ConvGradientTests
{
    private static (Conv1d Conv, ParameterSet Parameters) Make(ConvCase c, Rng rng)
    {
        var parameters = new ParameterSet();
        var conv = new Conv1d(c.Input, c.Output, c.Kernel, parameters, "conv");
        parameters.Allocate();
        conv.Initialize(rng);
        return (conv, parameters);
    }

    /// <summary>A layer of the case's sizes, an input of that scale and lengths (the first sequence full), drawn in that
    /// order from <paramref name="rng"/>, with the output and unfolded-input buffers they need.</summary>
    private static (Conv1d Conv, ParameterSet Parameters, float[] X, int[] Lengths, float[] Y, float[] Columns) Problem(ConvCase c, Rng rng, float scale)
    {
        var (conv, parameters) = Make(c, rng);
        var x = TestData.Random(rng, c.Steps * c.Batch * c.Input, scale);
        var lengths = Enumerable.Range(0, c.Batch).Select(b => b == 0 ? c.Steps : 1 + rng.NextInt(c.Steps)).ToArray();
        int rows = c.Steps * c.Batch;
        return (conv, parameters, x, lengths, new float[rows * c.Output], new float[rows * conv.Window]);
    }

    [Property(MaxTest = 60, Arbitrary = [typeof(Generators)])]
    public void ForwardIsTheDirectSumWithZeroOutsideEachSequence(ConvCase c)
    {
        var (conv, parameters, x, lengths, y, columns) = Problem(c, new Rng((ulong)c.Seed), 2f);
        int half = c.Kernel / 2;
        conv.Forward(x, lengths, c.Steps, c.Batch, columns, y, new float[conv.Window * c.Output]);
        ReadOnlySpan<float> w = parameters.Read(conv.Weight), bias = parameters.Read(conv.Bias);
        var expected = new float[y.Length];
        for (int t = 0; t < c.Steps; t++)
            for (int b = 0; b < c.Batch; b++)
                for (int o = 0; o < c.Output; o++)
                {
                    if (t >= lengths[b]) continue;
                    double sum = bias[o];
                    for (int i = 0; i < c.Input; i++)
                        for (int k = 0; k < c.Kernel; k++)
                        {
                            int s = t + k - half;
                            if (s >= 0 && s < lengths[b]) sum += (double)w[(o * c.Input + i) * c.Kernel + k] * x[(s * c.Batch + b) * c.Input + i];
                        }
                    expected[(t * c.Batch + b) * c.Output + o] = (float)sum;
                }
        TestData.Close(expected, y, 1e-5, 1e-5, $"y ({c})");

        // Garbage past every length changes nothing.
        for (int t = 0; t < c.Steps; t++)
            for (int b = 0; b < c.Batch; b++)
                if (t >= lengths[b])
                    for (int i = 0; i < c.Input; i++) x[(t * c.Batch + b) * c.Input + i] = 1e6f;
        var again = new float[y.Length];
        conv.Forward(x, lengths, c.Steps, c.Batch, columns, again, new float[conv.Window * c.Output]);
        TestData.Identical(y, again, $"y with garbage past each length ({c})");
    }

    [Property(MaxTest = 60, Arbitrary = [typeof(Generators)])]
    public void GradientsMatchCentralDifferences(ConvCase c)
    {
        var rng = new Rng((ulong)c.Seed);
        var (conv, parameters, x, lengths, y, columns) = Problem(c, rng, 2f);
        int rows = c.Steps * c.Batch;
        var r = TestData.Random(rng, rows * c.Output);
        var scratch = new float[conv.Window * c.Output];
        double Loss() { conv.Forward(x, lengths, c.Steps, c.Batch, columns, y, scratch); return TestData.Dot(y, r); }
        Loss();
        var dx = new float[x.Length];
        var dy = (float[])r.Clone();
        conv.Backward(columns, dy, lengths, c.Steps, c.Batch, new float[rows * conv.Window], dx);
        foreach (var tensor in parameters.Tensors)
            TestData.GradientsAgree(TestData.NumericGradient(parameters.Values, tensor.Offset, tensor.Length, Loss, TestData.GradientEpsilon),
                parameters.Gradient(tensor), $"{tensor.Name} ({c})");
        TestData.GradientsAgree(TestData.NumericGradient(x, 0, x.Length, Loss, TestData.GradientEpsilon), dx, $"dx ({c})");
        for (int t = 0; t < c.Steps; t++)
            for (int b = 0; b < c.Batch; b++)
                if (t >= lengths[b])
                    for (int i = 0; i < c.Input; i++) Assert.Equal(0f, dx[(t * c.Batch + b) * c.Input + i]);
    }

    [Fact]
    public void OneAndTwoThreadsGiveTheSameBits()
    {
        var c = new ConvCase(Steps: 57, Batch: 9, Input: 23, Output: 40, Kernel: 5, Seed: 7);
        float[] Run(int threads)
        {
            var rng = new Rng(11);
            var (conv, parameters, x, lengths, y, columns) = Problem(c, rng, 1f);
            int rows = c.Steps * c.Batch;
            using var pool = new WorkerPool(threads);
            conv.Forward(x, lengths, c.Steps, c.Batch, columns, y, new float[conv.Window * c.Output], pool);
            var dy = TestData.Random(rng, y.Length);
            var dx = new float[x.Length];
            conv.Backward(columns, dy, lengths, c.Steps, c.Batch, new float[rows * conv.Window], dx, pool);
            return [.. y, .. parameters.Gradients, .. dx];
        }
        TestData.Identical(Run(1), Run(2), "outputs and gradients");
    }

    [Fact]
    public void AConvolutionTravelsInTheArchitectureTextAndABadOneIsNamed()
    {
        var config = new ClassifierConfig(20, 16, 1, true, PoolingKind.Mean, [8], 7, 0.3f, convChannels: 32, convKernel: 5);
        Assert.Equal(32, config.LstmShape.InputSize);
        Assert.EndsWith(";conv=32:5", config.Serialize());
        Assert.Equal(config, ClassifierConfig.Parse(config.Serialize()));
        Assert.StartsWith("Conv1d(20→32, kernel 5) ReLU → LSTM(32→16", config.ToString());
        var plain = new ClassifierConfig(20, 16, 1, true, PoolingKind.Mean, [8], 7, 0.3f);
        Assert.DoesNotContain("conv", plain.Serialize()); // models without one keep the text they always had
        Assert.False(ClassifierConfig.Parse(plain.Serialize()).HasConv);
        Assert.Contains("ClassifierConfig.ConvKernel", Assert.Throws<OptionsException>(() => new ClassifierConfig(20, 16, 1, true, PoolingKind.Mean, [8], 7, 0.3f, 32, 4)).Message);
        Assert.Contains("ClassifierConfig.ConvChannels", Assert.Throws<OptionsException>(() => new ClassifierConfig(20, 16, 1, true, PoolingKind.Mean, [8], 7, 0.3f, -1, 3)).Message);
        Assert.Contains("'conv'", Assert.Throws<OptionsException>(() => ClassifierConfig.Parse(plain.Serialize() + ";conv=32")).Message);
    }
}
