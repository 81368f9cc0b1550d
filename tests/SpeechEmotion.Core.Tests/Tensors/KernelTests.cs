using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Tensors;

public class KernelTests
{
    [Fact]
    public void ReluBackwardMatchesReferenceAtEveryLength()
    {
        var rng = new Rng(21);
        for (int n = 0; n <= 67; n++)
        {
            var y = TestData.Random(rng, n); var dy = TestData.Random(rng, n); var dx = TestData.Random(rng, n);
            if (n > 0) y[0] = 0f; // the boundary: no gradient at exactly zero
            var expected = (float[])dx.Clone();
            Relu.BackwardReference(y, dy, expected);
            Relu.Backward(y, dy, dx);
            TestData.Identical(expected, dx, $"dx (n = {n})");
        }
    }

    [Fact]
    public void ReluBackwardKnownValues()
    {
        float[] y = [0f, 2f, -1f, 3f], dy = [5f, 6f, 7f, 8f], dx = [1f, 1f, 1f, 1f];
        Relu.Backward(y, dy, dx);
        Assert.Equal([1f, 7f, 1f, 9f], dx);
    }

    [Fact]
    public void LstmCellBackwardMatchesReferenceAtEveryWidth()
    {
        var rng = new Rng(22);
        for (int h = 0; h <= 67; h++)
        {
            var gates = TestData.Random(rng, 4 * h); for (int i = 0; i < gates.Length; i++) gates[i] = 0.5f + 0.49f * gates[i];
            var cPrev = TestData.Random(rng, h); var tanhC = TestData.Random(rng, h);
            var dy = TestData.Random(rng, h); var dhNext = TestData.Random(rng, h); var dc = TestData.Random(rng, h);
            var expectedGates = (float[])gates.Clone(); var expectedDc = (float[])dc.Clone();
            LstmCell.BackwardReference(expectedGates, cPrev, tanhC, dy, dhNext, expectedDc);
            LstmCell.Backward(gates, cPrev, tanhC, dy, dhNext, dc);
            // The same IEEE operations in the same order at every width: the same bits (the same-bits rule of #14).
            TestData.Identical(expectedGates, gates, $"gate gradients (H = {h})");
            TestData.Identical(expectedDc, dc, $"dc (H = {h})");
        }
    }

    /// <summary>The cell's forward (vectors) against its scalar loop at every width 1…67: the same bits.</summary>
    [Fact]
    public void LstmCellForwardMatchesReferenceAtEveryWidth()
    {
        var rng = new Rng(23);
        for (int h = 1; h <= 67; h++)
        {
            var gates = TestData.Random(rng, 4 * h); for (int i = 0; i < gates.Length; i++) gates[i] *= 4f;
            var cPrev = TestData.Random(rng, h);
            var expectedGates = (float[])gates.Clone();
            float[] c = new float[h], tanhC = new float[h], hidden = new float[h], expectedC = new float[h], expectedTanh = new float[h], expectedH = new float[h];
            LstmCell.ForwardReference(expectedGates.AsSpan(0, h), expectedGates.AsSpan(h, h), expectedGates.AsSpan(2 * h, h), expectedGates.AsSpan(3 * h, h),
                cPrev, expectedC, expectedTanh, expectedH);
            var hiddenCopy = new float[h];
            LstmCell.Forward(gates.AsSpan(0, h), gates.AsSpan(h, h), gates.AsSpan(2 * h, h), gates.AsSpan(3 * h, h), cPrev, c, tanhC, hidden, hiddenCopy);
            TestData.Identical(expectedGates, gates, $"gate activations (H = {h})");
            TestData.Identical(expectedC, c, $"c (H = {h})");
            TestData.Identical(expectedTanh, tanhC, $"tanh c (H = {h})");
            TestData.Identical(expectedH, hidden, $"h (H = {h})");
            TestData.Identical(expectedH, hiddenCopy, $"h's copy (H = {h})");
            Assert.Equal(MathF.Tanh(c[0]) * gates[3 * h], hidden[0], 1e-6f);
        }
    }

    [Fact]
    public void LstmCellBackwardRejectsMismatchedWidths()
    {
        var error = Assert.Throws<ShapeException>(() =>
            LstmCell.Backward(new float[12], new float[4], new float[4], new float[4], new float[4], new float[4]));
        Assert.Contains("gates must be 4H", error.Message);
    }

    [Fact]
    public void RngIsReproducibleAndUniform()
    {
        var a = new Rng(5); var b = new Rng(5);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
        var rng = new Rng(6);
        double sum = 0;
        for (int i = 0; i < 100_000; i++) { float x = rng.NextFloat(); Assert.InRange(x, 0f, 0.99999995f); sum += x; }
        Assert.InRange(sum / 100_000, 0.495, 0.505);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++) counts[rng.NextInt(7)]++;
        Assert.All(counts, count => Assert.InRange(count, 9_500, 10_500));
    }
}
