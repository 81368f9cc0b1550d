using System.Numerics.Tensors;
using SpeechEmotion.Core;

namespace SpeechEmotion.Inference;

/// <summary>
/// Probabilities that mean what they say: temperature scaling (Guo et al., "On Calibration of Modern Neural
/// Networks", ICML 2017) — one scalar T fitted on held-out data, probabilities = softmax(logits / T), which changes
/// no prediction, only how confident it is — and the expected calibration error that measures it.
/// </summary>
public static class Calibration
{
    /// <summary>Bins of the expected calibration error, as Guo et al. report it.</summary>
    public const int EceBins = 15;

    /// <summary>
    /// Range searched for T. It starts at 1: temperature scaling only ever softens. A validation part the model gets
    /// all right (TESS's, typically) is separable, and its likelihood would drive T towards 0 and every probability
    /// to 1 — confidence that a voice the model never heard would not deserve.
    /// </summary>
    public const float MinTemperature = 1f, MaxTemperature = 20f;

    /// <summary>softmax(logits / T) for each row of [rows × classes], the maximum subtracted first, in double precision.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, int classes, float temperature, Span<float> probabilities)
    {
        if (!(temperature > 0) || !float.IsFinite(temperature)) throw new OptionsException($"temperature must be positive and finite, got {temperature}.");
        if (classes < 1 || logits.Length % classes != 0 || probabilities.Length < logits.Length)
            throw new ShapeException($"Softmax: {logits.Length} logits in rows of {classes}, into {probabilities.Length} probabilities.");
        Span<double> exp = classes <= 1024 ? stackalloc double[classes] : new double[classes];
        for (int row = 0; row < logits.Length / classes; row++)
        {
            var z = logits.Slice(row * classes, classes);
            var p = probabilities.Slice(row * classes, classes);
            double max = TensorPrimitives.Max(z), sum = 0;
            for (int k = 0; k < classes; k++) sum += exp[k] = Math.Exp((z[k] - max) / temperature);
            // Probabilities under 1e-30 say nothing a zero does not, and as subnormal floats they would not survive an
            // ensemble's halving (and are slow on some processors): they are written as 0.
            for (int k = 0; k < classes; k++)
            {
                double probability = exp[k] / sum;
                p[k] = probability < 1e-30 ? 0f : (float)probability;
            }
        }
    }

    /// <summary>Mean negative log-likelihood of the labels under softmax(logits / T).</summary>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, double temperature)
    {
        double total = 0;
        for (int row = 0; row < labels.Length; row++)
        {
            var z = logits.Slice(row * classes, classes);
            double max = TensorPrimitives.Max(z), sum = 0;
            foreach (float v in z) sum += Math.Exp((v - max) / temperature);
            total += Math.Log(sum) - (z[labels[row]] - max) / temperature;
        }
        return total / Math.Max(1, labels.Length);
    }

    /// <summary>
    /// The temperature that minimises the negative log-likelihood of held-out logits [N × classes] and labels [N]:
    /// golden-section search over log T in [<see cref="MinTemperature"/>, <see cref="MaxTemperature"/>] (the NLL is
    /// convex in 1/T), deterministic; a minimum below the range gives 1. No data: 1.
    /// </summary>
    public static float FitTemperature(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes)
    {
        if (labels.Length == 0) return 1f;
        if (logits.Length != labels.Length * classes) throw new ShapeException($"FitTemperature: {logits.Length} logits for {labels.Length} labels of {classes} classes.");
        double low = Math.Log(MinTemperature), high = Math.Log(MaxTemperature), ratio = (Math.Sqrt(5) - 1) / 2;
        double a = high - ratio * (high - low), b = low + ratio * (high - low);
        double fa = NegativeLogLikelihood(logits, labels, classes, Math.Exp(a)), fb = NegativeLogLikelihood(logits, labels, classes, Math.Exp(b));
        for (int iteration = 0; iteration < 80; iteration++)
        {
            if (fa <= fb) { high = b; b = a; fb = fa; a = high - ratio * (high - low); fa = NegativeLogLikelihood(logits, labels, classes, Math.Exp(a)); }
            else { low = a; a = b; fa = fb; b = low + ratio * (high - low); fb = NegativeLogLikelihood(logits, labels, classes, Math.Exp(b)); }
        }
        float fitted = (float)Math.Exp((low + high) / 2);
        return fitted < MinTemperature * 1.0001f ? MinTemperature : fitted; // the search converges onto the bound, not exactly to it
    }

    /// <summary>
    /// Expected calibration error: the rows sorted into <paramref name="bins"/> equal-width bins of confidence (their
    /// largest probability; a confidence of exactly 1 in the last bin), then Σ_b (n_b / N) · |accuracy_b − mean confidence_b|.
    /// 0 for perfectly calibrated probabilities.
    /// </summary>
    public static double ExpectedCalibrationError(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, int classes, int bins = EceBins)
    {
        if (labels.Length == 0) return 0;
        var count = new int[bins];
        var correct = new int[bins];
        var confidence = new double[bins];
        for (int row = 0; row < labels.Length; row++)
        {
            var p = probabilities.Slice(row * classes, classes);
            int best = TensorPrimitives.IndexOfMax(p); // the first of equals, as every prediction here takes it
            int bin = Math.Min(bins - 1, (int)(p[best] * bins));
            count[bin]++;
            confidence[bin] += p[best];
            if (best == labels[row]) correct[bin]++;
        }
        double ece = 0;
        for (int b = 0; b < bins; b++)
            if (count[b] > 0) ece += count[b] / (double)labels.Length * Math.Abs(correct[b] / (double)count[b] - confidence[b] / count[b]);
        return ece;
    }

    /// <summary>
    /// The expected calibration error of a perfectly calibrated model with these confidences: what
    /// <see cref="ExpectedCalibrationError"/> averages to when each row is right with exactly its confidence (the largest
    /// of its probabilities), in the same bins. A finite sample is never scored 0: in a bin of n rows the share right
    /// scatters about the mean confidence, so this is the floor an ECE measured on these rows cannot be
    /// expected to go below (about √(2/π)·√(Σ c(1 − c))/N summed over the bins; 0.05–0.06 for 300 rows near 65 %). It reads
    /// no label. Each bin exactly: the number right is Poisson-binomial over its rows (computed by the recurrence over
    /// rows, bins of up to <see cref="ExactFloorRows"/> rows), E|k/n − c̄| summed over its distribution; larger bins by the
    /// normal approximation √(2/π)·√(Σ c(1 − c))/n, within 0.1 % there.
    /// </summary>
    public static double ExpectedCalibrationErrorFloor(ReadOnlySpan<float> probabilities, int classes, int bins = EceBins)
    {
        int rows = probabilities.Length / classes;
        if (rows == 0) return 0;
        var members = new List<double>[bins];
        for (int b = 0; b < bins; b++) members[b] = [];
        for (int row = 0; row < rows; row++)
        {
            var p = probabilities.Slice(row * classes, classes);
            float top = p[TensorPrimitives.IndexOfMax(p)];
            members[Math.Min(bins - 1, (int)(top * bins))].Add(Math.Clamp((double)top, 0, 1));
        }
        double floor = 0;
        foreach (var bin in members)
        {
            int n = bin.Count;
            if (n == 0) continue;
            double mean = bin.Sum() / n, deviation;
            if (n > ExactFloorRows) deviation = Math.Sqrt(2 / Math.PI) * Math.Sqrt(bin.Sum(c => c * (1 - c))) / n;
            else
            {
                var pmf = new double[n + 1]; // pmf[k]: probability that k of the rows so far are right
                pmf[0] = 1;
                for (int i = 0; i < n; i++)
                {
                    double c = bin[i];
                    for (int k = i + 1; k >= 1; k--) pmf[k] = pmf[k] * (1 - c) + pmf[k - 1] * c;
                    pmf[0] *= 1 - c;
                }
                deviation = 0;
                for (int k = 0; k <= n; k++) deviation += pmf[k] * Math.Abs(k / (double)n - mean);
            }
            floor += n / (double)rows * deviation;
        }
        return floor;
    }

    /// <summary>Bins of up to this many rows get the exact floor (a recurrence of n²/2 steps), larger ones the normal approximation.</summary>
    public const int ExactFloorRows = 4096;
}
