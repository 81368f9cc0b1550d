using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Tensors;

/// <summary>FixedOrder's dot products and sums equal, bit for bit, the order they document, written out here as scalar
/// code: element k into lane k mod 16, in order, then the pairwise tree.</summary>
public class FixedOrderTests
{
    private static float Documented(float[] a, float[]? b)
    {
        var lanes = new float[16];
        for (int k = 0; k < a.Length; k++) lanes[k % 16] = b is null ? lanes[k % 16] + a[k] : MathF.FusedMultiplyAdd(a[k], b[k], lanes[k % 16]);
        for (int width = 8; width >= 1; width /= 2)
            for (int k = 0; k < width; k++) lanes[k] += lanes[k + width];
        return lanes[0];
    }

    [Fact]
    public void Dot_and_sum_follow_the_documented_order_at_every_length()
    {
        var rng = new Rng(17);
        for (int n = 0; n <= 200; n++)
        {
            // Magnitudes over many octaves, so that a different order would round differently.
            var a = Enumerable.Range(0, n).Select(_ => MathF.ScaleB(rng.NextFloat() - 0.5f, rng.NextInt(40) - 20)).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => MathF.ScaleB(rng.NextFloat() - 0.5f, rng.NextInt(40) - 20)).ToArray();
            Assert.Equal(BitConverter.SingleToInt32Bits(Documented(a, b)), BitConverter.SingleToInt32Bits(FixedOrder.Dot(a, b)));
            Assert.Equal(BitConverter.SingleToInt32Bits(Documented(a, null)), BitConverter.SingleToInt32Bits(FixedOrder.Sum(a)));
            double exact = a.Zip(b, (x, y) => (double)x * y).Sum();
            Assert.True(Math.Abs(FixedOrder.Dot(a, b) - exact) <= 1e-5 * (1 + a.Zip(b, (x, y) => Math.Abs((double)x * y)).Sum()), $"n = {n}");
        }
        Assert.Throws<ShapeException>(() => FixedOrder.Dot(new float[3], new float[4]));
    }
}
