namespace SpeechEmotion.Audio;

/// <summary>
/// librosa.feature.delta(data, width=9, order, mode='interp'): a Savitzky–Golay derivative along time, i.e. the
/// derivative of a least-squares polynomial of degree <c>order</c> fitted over a centred window of 9 frames.
/// In 'interp' mode the first and last half-windows take the derivative of the polynomial fitted to the first
/// (last) full window; for order 1 and 2 that derivative is constant over the window, so the edge frames equal
/// frame 4 (T − 5). librosa refuses fewer than 9 frames; we shrink the window to the largest odd width that
/// fits (at least 3) and give zeros below 3 frames, so a very short clip still yields features.
/// </summary>
public static class Deltas
{
    public const int DefaultWidth = 9;

    /// <summary>features [frames × coefficients] → its order-th derivative along time, same shape.</summary>
    public static float[] Compute(ReadOnlySpan<float> features, int frames, int coefficients, int order, int width = DefaultWidth)
    {
        if (order is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(order), order, "order must be 1 or 2");
        if (width < 3 || width % 2 == 0) throw new ArgumentOutOfRangeException(nameof(width), width, "width must be odd and at least 3");
        if (features.Length != frames * coefficients) throw new ArgumentException($"features has {features.Length} values, not {frames}×{coefficients}.");
        var result = new float[features.Length];
        int w = Math.Min(width, frames % 2 == 1 ? frames : frames - 1);
        if (w < 3) return result;
        int h = w / 2;
        // Window weights: order 1, slope = Σ n·x / Σ n²; order 2, second derivative = 2·Σ (n² − n̄²)·x / Σ (n² − n̄²)².
        var weights = new double[w];
        double sumN2 = 0;
        for (int n = -h; n <= h; n++) sumN2 += n * n;
        double meanN2 = sumN2 / w, denominator = 0;
        for (int n = -h; n <= h; n++) denominator += order == 1 ? n * n : (n * n - meanN2) * (n * n - meanN2);
        for (int n = -h; n <= h; n++) weights[n + h] = (order == 1 ? n : 2 * (n * n - meanN2)) / denominator;

        for (int t = 0; t < frames; t++)
        {
            int centre = Math.Clamp(t, h, frames - 1 - h); // 'interp': edges reuse the nearest full window
            for (int c = 0; c < coefficients; c++)
            {
                double sum = 0;
                for (int k = 0; k < w; k++) sum += weights[k] * features[(centre - h + k) * coefficients + c];
                result[t * coefficients + c] = (float)sum;
            }
        }
        return result;
    }
}
