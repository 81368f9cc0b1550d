using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Tensors;

/// <summary>
/// σ and tanh of <see cref="Activations"/> against double precision over the whole float range, and the vector
/// paths against the scalar one, bit for bit (CI also runs `ser bench --determinism` with the wider paths switched off).
/// </summary>
public class ActivationTests
{
    /// <summary>Every 4,096th float bit pattern (a million values, both signs, subnormals to ∞) and the specials.</summary>
    private static float[] Sweep()
    {
        var values = new List<float>();
        for (long bits = 0; bits < 1L << 32; bits += 4096)
        {
            float v = BitConverter.Int32BitsToSingle((int)(uint)bits);
            if (!float.IsNaN(v)) values.Add(v);
        }
        values.AddRange([0f, -0f, 0.5f, -0.5f, 0.49999997f, -0.49999997f, 80f, -80f, 87.33f, -87.33f, 88f, 1e-30f, float.MaxValue, float.MinValue]);
        return values.ToArray();
    }


    [Fact]
    public void Sigmoid_and_tanh_are_within_their_stated_error_of_double_precision()
    {
        var x = Sweep();
        var sigmoid = new float[x.Length];
        var tanh = new float[x.Length];
        Activations.Sigmoid(x, sigmoid);
        Activations.Tanh(x, tanh);
        double worstSigmoidAbs = 0, worstTanhAbs = 0, worstSigmoidUlp = 0, worstTanhRelative = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double s = 1 / (1 + Math.Exp(-(double)x[i])), t = Math.Tanh(x[i]);
            worstSigmoidAbs = Math.Max(worstSigmoidAbs, Math.Abs(sigmoid[i] - s));
            worstTanhAbs = Math.Max(worstTanhAbs, Math.Abs(tanh[i] - t));
            if (x[i] > -80) worstSigmoidUlp = Math.Max(worstSigmoidUlp, Math.Abs(sigmoid[i] - s) / (MathF.BitIncrement((float)s) - (float)s));
            if (Math.Abs(t) > 1e-30) worstTanhRelative = Math.Max(worstTanhRelative, Math.Abs(tanh[i] - t) / Math.Abs(t));
            Assert.True(sigmoid[i] >= 0 && sigmoid[i] <= 1 && tanh[i] >= -1 && tanh[i] <= 1, $"out of range at {x[i]}: σ {sigmoid[i]}, tanh {tanh[i]}");
            Assert.False(float.IsSubnormal(sigmoid[i]) && x[i] < -80, $"σ({x[i]}) = {sigmoid[i]} is subnormal");
        }
        // Measured on this sweep: σ 8.8·10⁻⁸ absolute and 1.99 ulp above −80; tanh 8.2·10⁻⁸ absolute, 1.6·10⁻⁷ relative.
        Assert.True(worstSigmoidAbs <= 1e-7, $"σ: largest absolute error {worstSigmoidAbs:E2}");
        Assert.True(worstTanhAbs <= 1e-7, $"tanh: largest absolute error {worstTanhAbs:E2}");
        Assert.True(worstSigmoidUlp <= 2, $"σ above −80: largest error {worstSigmoidUlp:F2} ulp");
        Assert.True(worstTanhRelative <= 2e-7, $"tanh: largest relative error {worstTanhRelative:E2}");
        Assert.True(float.IsNaN(Activations.Sigmoid(float.NaN)) && float.IsNaN(Activations.Tanh(float.NaN)));
    }

    [Fact]
    public void Every_vector_width_gives_the_scalar_bits()
    {
        var x = Sweep();
        var rng = new Rng(9);
        for (int n = 0; n <= 70; n++) // every vector loop and its scalar tail
        {
            var values = Enumerable.Range(0, n).Select(_ => x[rng.NextInt(x.Length)]).ToArray();
            var sigmoid = new float[n];
            var tanh = new float[n];
            Activations.Sigmoid(values, sigmoid);
            Activations.Tanh(values, tanh);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(Activations.Sigmoid(values[i])), BitConverter.SingleToInt32Bits(sigmoid[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(Activations.Tanh(values[i])), BitConverter.SingleToInt32Bits(tanh[i]));
            }
        }
        // And over the whole sweep at once.
        var all = new float[x.Length];
        Activations.Tanh(x, all);
        for (int i = 0; i < x.Length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(Activations.Tanh(x[i])), BitConverter.SingleToInt32Bits(all[i]));
    }
}
