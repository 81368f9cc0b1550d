using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests;

internal static class TestData
{
    public static float[] Random(Rng rng, int length, float scale = 1f)
    {
        var values = new float[length];
        rng.FillUniform(values, -scale, scale);
        return values;
    }

    /// <summary>Asserts |expected − actual| ≤ atol + rtol·|expected| element by element, naming the first failure.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)expected[i] - actual[i]);
            if (!(diff <= atol + rtol * Math.Abs(expected[i])))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (|diff| {diff:E3} > {atol} + {rtol}·|expected|).");
        }
    }

    public static void Identical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: expected bits of {expected[i]:R}, got {actual[i]:R}.");
    }

    /// <summary>Central difference of a scalar function of one buffer, perturbing each element in place.</summary>
    public static double[] NumericGradient(float[] buffer, int offset, int length, Func<double> loss, float epsilon)
    {
        var gradient = new double[length];
        for (int i = 0; i < length; i++)
        {
            float saved = buffer[offset + i];
            buffer[offset + i] = saved + epsilon;
            double plus = loss();
            buffer[offset + i] = saved - epsilon;
            double minus = loss();
            buffer[offset + i] = saved;
            gradient[i] = (plus - minus) / (2.0 * epsilon);
        }
        return gradient;
    }

    /// <summary>
    /// Central differences of <paramref name="loss"/> over buffer[offset … offset + length) against
    /// <paramref name="analytic"/>, for a function with ReLU kinks: <paramref name="pattern"/> names the branches the
    /// last loss evaluation took, and a difference whose two sides took different ones measures no derivative. It is
    /// retried at a tenth of the step, and skipped only if it still straddles. Fails on the first disagreement; returns
    /// how many were checked and how many skipped, for the caller to bound.
    /// </summary>
    public static (int Checked, int Straddling) GradientsAgreeAcrossKinks(float[] buffer, int offset, int length, ReadOnlySpan<float> analytic,
        Func<double> loss, Func<string> pattern, float epsilon, string what)
    {
        double? Central(int i, float h)
        {
            float saved = buffer[offset + i];
            buffer[offset + i] = saved + h;
            double plus = loss();
            string plusPattern = pattern();
            buffer[offset + i] = saved - h;
            double minus = loss();
            string minusPattern = pattern();
            buffer[offset + i] = saved;
            return plusPattern == minusPattern ? (plus - minus) / (2.0 * h) : null;
        }
        int straddling = 0;
        for (int i = 0; i < length; i++)
        {
            // float32 rounding of the loss stays well inside the tolerance at the smaller step too.
            if ((Central(i, epsilon) ?? Central(i, epsilon / 10)) is not { } numeric) { straddling++; continue; }
            double diff = Math.Abs(numeric - analytic[i]);
            if (!(diff <= GradientAtol + GradientRtol * Math.Abs(numeric)))
                Assert.Fail($"{what}[{i}]: numeric {numeric:G6}, analytic {analytic[i]:G6}, |diff| {diff:E3}.");
        }
        return (length, straddling);
    }

    /// <summary>
    /// The tolerance of every float32 gradient check here: central differences with ε = 1e-2 carry O(ε²)
    /// truncation and about 1e-7·|L|/ε rounding, both well under 2e-3 + 2e-2·|g| for these sizes.
    /// </summary>
    public const double GradientAtol = 2e-3, GradientRtol = 2e-2;
    public const float GradientEpsilon = 1e-2f;

    public static void GradientsAgree(double[] numeric, ReadOnlySpan<float> analytic, string what)
    {
        Assert.Equal(numeric.Length, analytic.Length);
        for (int i = 0; i < numeric.Length; i++)
        {
            double diff = Math.Abs(numeric[i] - analytic[i]);
            if (!(diff <= GradientAtol + GradientRtol * Math.Abs(numeric[i])))
                Assert.Fail($"{what}[{i}]: numeric {numeric[i]:G6}, analytic {analytic[i]:G6}, |diff| {diff:E3}.");
        }
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
