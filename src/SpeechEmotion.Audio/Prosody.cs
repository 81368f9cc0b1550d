using SpeechEmotion.Core.Tensors;
using System.Numerics.Tensors;

namespace SpeechEmotion.Audio;

/// <summary>
/// Per-frame prosody on the MFCC frame grid (frame f centred on sample f·hop): pitch in semitones, voicing
/// strength and log energy. Pitch is the lag that maximises the normalised cross-correlation (NCCF, as in
/// Talkin's RAPT) of a window with itself shifted; the shortest lag whose NCCF is within 10 % of the best is
/// taken, which keeps the tracker off sub-octaves. Frames whose best NCCF is below <see cref="VoicedThreshold"/>
/// (or that are more than 40 dB below the loudest frame) are unvoiced; their pitch is carried linearly between
/// the voiced frames on either side (held flat beyond the first and last), so the pitch feature is a contour,
/// not a sequence of gaps. These three values carry what MFCCs mostly discard: how high, how steady and how
/// loud a voice is relative to itself, which is where much of emotion lives.
/// </summary>
public static class Prosody
{
    /// <summary>Values per frame: semitones above 100 Hz, voicing (best NCCF, 0…1), energy in dB.</summary>
    public const int Size = 3;

    public const double MinPitchHz = 70, MaxPitchHz = 600, VoicedThreshold = 0.6, SilenceDb = 40;

    /// <summary>Window length: 46 ms at 22,050 Hz, enough for two periods of the lowest pitch.</summary>
    public static int WindowLength(int sampleRate) => (int)Math.Round(0.0465 * sampleRate);

    /// <summary>
    /// How many of <paramref name="frames"/> rows of a feature matrix (row stride <paramref name="stride"/>, the prosody's
    /// three values from column <paramref name="offset"/>) <see cref="Compute"/> called voiced: voicing at least
    /// <see cref="VoicedThreshold"/> and energy within <see cref="SilenceDb"/> of the loudest row, the test that decides
    /// where the pitch contour is measured rather than carried.
    /// </summary>
    public static int CountVoiced(ReadOnlySpan<float> values, int frames, int stride, int offset)
    {
        if (offset < 0 || offset + Size > stride || (long)frames * stride > values.Length)
            throw new ArgumentException($"Prosody columns {offset}…{offset + Size - 1} of {frames} rows of {stride} do not fit {values.Length} values.");
        float loudest = float.NegativeInfinity;
        for (int f = 0; f < frames; f++) loudest = MathF.Max(loudest, values[f * stride + offset + 2]);
        int voiced = 0;
        for (int f = 0; f < frames; f++)
            if (IsVoiced(values[f * stride + offset + 1], values[f * stride + offset + 2], loudest)) voiced++;
        return voiced;
    }

    /// <summary>The one voicing test, for <see cref="Compute"/> (on the unrounded NCCF) and <see cref="CountVoiced"/> (on the
    /// stored one): NCCF at least <see cref="VoicedThreshold"/> and energy within <see cref="SilenceDb"/> of the loudest frame.</summary>
    private static bool IsVoiced(double nccf, float energy, float loudest) => nccf >= VoicedThreshold && energy > loudest - SilenceDb;

    /// <summary>[frames × 3] prosody for the frames 0…frames−1 centred at f·hop (zero beyond the samples).</summary>
    public static float[] Compute(ReadOnlySpan<float> samples, int sampleRate, int hop, int frames)
    {
        int window = WindowLength(sampleRate);
        int minLag = (int)Math.Floor(sampleRate / MaxPitchHz), maxLag = (int)Math.Ceiling(sampleRate / MinPitchHz);
        if (maxLag >= window) throw new ArgumentException($"A {window}-sample window cannot hold a {maxLag}-sample lag.");
        var frame = new float[window];
        var prefix = new double[window + 1]; // prefix sums of squares: the energy of any part of the window in O(1)
        var pitch = new double[frames];
        var voicing = new float[frames];
        var energy = new float[frames];
        var best = new double[frames];
        var nccf = new double[maxLag + 1];
        for (int f = 0; f < frames; f++)
        {
            int start = f * hop - window / 2;
            Array.Clear(frame);
            int from = Math.Max(0, start), to = Math.Min(samples.Length, start + window);
            if (to > from) samples[from..to].CopyTo(frame.AsSpan(from - start));
            float mean = FixedOrder.Sum(frame) / window;
            TensorPrimitives.Subtract(frame, mean, frame);
            for (int n = 0; n < window; n++) prefix[n + 1] = prefix[n] + (double)frame[n] * frame[n];
            energy[f] = (float)(10 * Math.Log10(prefix[window] / window + 1e-10));

            for (int lag = minLag; lag <= maxLag; lag++)
            {
                int length = window - lag;
                double denominator = Math.Sqrt(prefix[length] * (prefix[window] - prefix[lag]));
                nccf[lag] = denominator > 0 ? FixedOrder.Dot(frame.AsSpan(0, length), frame.AsSpan(lag, length)) / denominator : 0;
                best[f] = Math.Max(best[f], nccf[lag]);
            }
            // The first peak near the best (the best's own lag qualifies, so a positive best always has one).
            int chosen = 0;
            if (best[f] > 0)
                for (int lag = minLag; lag <= maxLag; lag++)
                    if (nccf[lag] >= 0.9 * best[f] && (lag == maxLag || nccf[lag] >= nccf[lag + 1])) { chosen = lag; break; }
            voicing[f] = (float)Math.Clamp(best[f], 0, 1);
            pitch[f] = chosen > 0 ? 12 * Math.Log2(sampleRate / (double)chosen / 100) : 0;
        }
        float loudest = frames > 0 ? TensorPrimitives.Max(energy) : 0;
        var voiced = new bool[frames];
        for (int f = 0; f < frames; f++) voiced[f] = IsVoiced(best[f], energy[f], loudest);

        var result = new float[frames * Size];
        int previous = -1;
        for (int f = 0; f <= frames; f++)
        {
            if (f < frames && !voiced[f]) continue;
            // Fill the gap (previous, f) between voiced frames: linear between them, flat at the ends.
            for (int g = previous + 1; g < f; g++)
                result[g * Size] = (float)(previous < 0 && f == frames ? 0
                    : previous < 0 ? pitch[f] : f == frames ? pitch[previous]
                    : pitch[previous] + (pitch[f] - pitch[previous]) * (g - previous) / (f - previous));
            if (f < frames) result[f * Size] = (float)pitch[f];
            previous = f;
        }
        for (int f = 0; f < frames; f++)
        {
            result[f * Size + 1] = voicing[f];
            result[f * Size + 2] = energy[f];
        }
        return result;
    }
}
